/// A bencoded value (BEP 3), as built by code that wants to *encode* something.
///
/// Byte strings are raw bytes, not text: torrent piece hashes, compact node
/// infos and KRPC transaction IDs are all binary. Dictionary keys are byte
/// strings too; the encoder writes them in the canonical (bytewise sorted) order,
/// so a `BValue` has exactly one encoding.
public enum BValue: Hashable, Sendable {
    case integer(Int64)
    case bytes([UInt8])
    case list([BValue])
    case dictionary([[UInt8]: BValue])

    /// A byte string holding the UTF-8 of `text`.
    public static func string(_ text: String) -> BValue { .bytes(Array(text.utf8)) }

    /// A dictionary built from text keys, the common case in protocol code.
    public static func dict(_ entries: [String: BValue]) -> BValue {
        var out: [[UInt8]: BValue] = [:]
        out.reserveCapacity(entries.count)
        for (key, value) in entries { out[Array(key.utf8)] = value }
        return .dictionary(out)
    }

    /// Looks up a text key in a dictionary value; nil for other kinds.
    public subscript(key: String) -> BValue? {
        guard case .dictionary(let entries) = self else { return nil }
        return entries[Array(key.utf8)]
    }
}

extension BValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension BValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension BValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: BValue...) { self = .list(elements) }
}

extension BValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, BValue)...) {
        var out: [[UInt8]: BValue] = [:]
        for (key, value) in elements { out[Array(key.utf8)] = value }
        self = .dictionary(out)
    }
}
