/// Bounds that keep a hostile input from costing more than its own size.
public struct BencodeLimits: Sendable {
    /// Deepest nesting of lists and dictionaries accepted.
    public var maxDepth: Int
    /// Longest byte string accepted (also bounded by the input's length).
    public var maxStringLength: Int
    /// When true, dictionary keys out of bytewise order are an error. When false
    /// (the default) they are accepted as they come: torrents made by old tools
    /// sometimes have them, and the infohash is taken from the raw bytes anyway.
    /// Duplicate keys are always an error: they make a dictionary ambiguous.
    public var requireSortedKeys: Bool

    public init(maxDepth: Int = 64, maxStringLength: Int = 64 << 20, requireSortedKeys: Bool = false) {
        self.maxDepth = maxDepth
        self.maxStringLength = maxStringLength
        self.requireSortedKeys = requireSortedKeys
    }

    public static let `default` = BencodeLimits()
}

/// A strict bencode decoder.
///
/// Rules (rejections throw `BencodeError` with the byte offset):
/// - integers: `i<digits>e`, optional `-`, no leading zeros, no `-0`, at most 64 bits;
/// - string lengths: decimal without leading zeros, bounded by the input and the limit
///   *before* any allocation;
/// - dictionary keys must be byte strings, never repeated; order per `BencodeLimits`;
/// - `decode` rejects trailing bytes; `decodePrefix` reports where the value ended.
public struct BencodeDecoder: Sendable {
    public var limits: BencodeLimits

    public init(limits: BencodeLimits = .default) {
        self.limits = limits
    }

    /// Decodes exactly one value that fills the whole input.
    public func decode(_ input: [UInt8]) throws -> BNode {
        try input.withUnsafeBytes { try decode($0) }
    }

    public func decode(_ input: UnsafeRawBufferPointer) throws -> BNode {
        let (node, end) = try decodePrefix(input)
        guard end == input.count else { throw BencodeError(.trailingData, at: end) }
        return node
    }

    /// Decodes one value at the start of the input and returns where it ends;
    /// used where a bencoded header is followed by raw payload (BEP 9).
    public func decodePrefix(_ input: [UInt8]) throws -> (node: BNode, end: Int) {
        try input.withUnsafeBytes { try decodePrefix($0) }
    }

    public func decodePrefix(_ input: UnsafeRawBufferPointer) throws -> (node: BNode, end: Int) {
        var cursor = Cursor(bytes: input, limits: limits)
        let node = try cursor.value(depth: 0)
        return (node, cursor.position)
    }
}

/// The parsing state; recursion depth is bounded by `limits.maxDepth`.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    let limits: BencodeLimits
    var position = 0

    init(bytes: UnsafeRawBufferPointer, limits: BencodeLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    func peek() throws -> UInt8 {
        guard position < bytes.count else { throw BencodeError(.unexpectedEnd, at: position) }
        return bytes[position]
    }

    mutating func value(depth: Int) throws -> BNode {
        let start = position
        switch try peek() {
        case UInt8(ascii: "i"):
            position += 1
            let number = try integer(terminator: UInt8(ascii: "e"))
            return BNode(kind: .integer(number), span: start..<position)
        case UInt8(ascii: "l"):
            guard depth < limits.maxDepth else { throw BencodeError(.nestingTooDeep(limit: limits.maxDepth), at: start) }
            position += 1
            var items: [BNode] = []
            while try peek() != UInt8(ascii: "e") {
                items.append(try value(depth: depth + 1))
            }
            position += 1
            return BNode(kind: .list(items), span: start..<position)
        case UInt8(ascii: "d"):
            guard depth < limits.maxDepth else { throw BencodeError(.nestingTooDeep(limit: limits.maxDepth), at: start) }
            position += 1
            let entries = try dictionaryEntries(depth: depth)
            return BNode(kind: .dictionary(entries), span: start..<position)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            let string = try byteString()
            return BNode(kind: .bytes(string), span: start..<position)
        case let other:
            throw BencodeError(.unexpectedByte(other), at: start)
        }
    }

    mutating func dictionaryEntries(depth: Int) throws -> [BEntry] {
        var entries: [BEntry] = []
        var inOrder = true
        var seen: Set<[UInt8]> = []
        while try peek() != UInt8(ascii: "e") {
            let keyStart = position
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(try peek()) else {
                throw BencodeError(.nonStringKey, at: keyStart)
            }
            let key = try byteString()
            if let previous = entries.last?.key, inOrder, !BValue.bytewiseLess(previous, key) {
                if previous == key { throw BencodeError(.duplicateKey, at: keyStart) }
                if limits.requireSortedKeys { throw BencodeError(.unsortedKey, at: keyStart) }
                // Out of order: from here on, duplicates can hide anywhere, so track them all.
                inOrder = false
                seen = Set(entries.map(\.key))
            }
            if !inOrder {
                guard seen.insert(key).inserted else { throw BencodeError(.duplicateKey, at: keyStart) }
            }
            entries.append(BEntry(key: key, value: try value(depth: depth + 1)))
        }
        position += 1
        return entries
    }

    /// Parses `<length>:<bytes>` with the length checked before the copy.
    mutating func byteString() throws -> [UInt8] {
        let lengthStart = position
        let length = try integer(terminator: UInt8(ascii: ":"), allowNegative: false)
        guard length <= Int64(limits.maxStringLength) else {
            throw BencodeError(.stringTooLong(length: Int(clamping: length), limit: limits.maxStringLength), at: lengthStart)
        }
        let count = Int(length)
        guard count <= bytes.count - position else { throw BencodeError(.unexpectedEnd, at: bytes.count) }
        let result = Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]))
        position += count
        return result
    }

    /// Parses a decimal integer up to `terminator` and consumes the terminator.
    mutating func integer(terminator: UInt8, allowNegative: Bool = true) throws -> Int64 {
        let start = position
        var negative = false
        if allowNegative, try peek() == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let digitsStart = position
        var magnitude: UInt64 = 0
        while true {
            let byte = try peek()
            if byte == terminator { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw BencodeError(.unexpectedByte(byte), at: position)
            }
            if position > digitsStart, bytes[digitsStart] == UInt8(ascii: "0") {
                throw BencodeError(.leadingZero, at: digitsStart)
            }
            let (times10, overflowA) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflowA, !overflowB, sum <= UInt64(Int64.max) + (negative ? 1 : 0) else {
                throw BencodeError(.integerOverflow, at: start)
            }
            magnitude = sum
            position += 1
        }
        guard position > digitsStart else { throw BencodeError(.emptyInteger, at: start) }
        if negative, magnitude == 0 { throw BencodeError(.negativeZero, at: start) }
        position += 1
        if negative { return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude) }
        return Int64(magnitude)
    }
}
