/// A decoded bencode value together with the byte range it occupied in the input.
///
/// Keeping the span matters: the infohash is the SHA-1 of the `info` dictionary
/// exactly as received, and KRPC signatures cover the `a`/`r` dictionary as sent.
/// Re-encoding would silently "fix" non-canonical input and change both.
public struct BNode: Sendable {
    public enum Kind: Sendable {
        case integer(Int64)
        case bytes([UInt8])
        case list([BNode])
        /// Entries in the order they appeared in the input.
        case dictionary([BEntry])
    }

    public let kind: Kind
    /// Where this value (including its type markers) sits in the decoded input.
    public let span: Range<Int>

    public init(kind: Kind, span: Range<Int>) {
        self.kind = kind
        self.span = span
    }

    public var integer: Int64? {
        if case .integer(let value) = kind { return value }
        return nil
    }

    public var bytes: [UInt8]? {
        if case .bytes(let value) = kind { return value }
        return nil
    }

    /// The byte string as UTF-8 text, or nil when it is not a string or not valid UTF-8.
    public var string: String? {
        guard case .bytes(let value) = kind else { return nil }
        return String(validating: value, as: UTF8.self)
    }

    public var list: [BNode]? {
        if case .list(let value) = kind { return value }
        return nil
    }

    public var entries: [BEntry]? {
        if case .dictionary(let value) = kind { return value }
        return nil
    }

    public var isDictionary: Bool {
        if case .dictionary = kind { return true }
        return false
    }

    /// The value stored under a text key of a dictionary; nil for other kinds.
    public subscript(key: String) -> BNode? {
        guard case .dictionary(let entries) = kind else { return nil }
        return entries.first(where: { $0.key.elementsEqual(key.utf8) })?.value
    }

    /// The plain value, without spans.
    public var value: BValue {
        switch kind {
        case .integer(let value): return .integer(value)
        case .bytes(let value): return .bytes(value)
        case .list(let items): return .list(items.map(\.value))
        case .dictionary(let entries):
            var out: [[UInt8]: BValue] = [:]
            out.reserveCapacity(entries.count)
            for entry in entries { out[entry.key] = entry.value.value }
            return .dictionary(out)
        }
    }
}

/// One key/value pair of a decoded dictionary.
public struct BEntry: Sendable {
    public let key: [UInt8]
    public let value: BNode

    public init(key: [UInt8], value: BNode) {
        self.key = key
        self.value = value
    }
}
