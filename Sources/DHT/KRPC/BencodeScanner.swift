#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward-only bencode reader over raw bytes, for KRPC's hot path: it
/// reports byte ranges instead of building a tree, allocates nothing, and
/// skips unknown values without recursion (so 1,000-deep nesting costs a
/// counter, not a stack).
struct BencodeScanner {
    let buffer: UnsafeRawBufferPointer
    var position = 0

    init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    struct Malformed: Error {
        let reason: StaticString
    }

    var isAtEnd: Bool { position >= buffer.count }

    func peek() throws(Malformed) -> UInt8 {
        guard position < buffer.count else { throw Malformed(reason: "truncated") }
        return buffer[position]
    }

    mutating func expect(_ byte: UInt8) throws(Malformed) {
        guard try peek() == byte else { throw Malformed(reason: "unexpected byte") }
        position += 1
    }

    /// `<length>:<bytes>`; returns where the bytes are.
    mutating func string() throws(Malformed) -> Range<Int> {
        var length = 0
        var digits = 0
        while true {
            let byte = try peek()
            if byte == UInt8(ascii: ":") { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 5 else {
                throw Malformed(reason: "bad string length")
            }
            if digits == 1, length == 0 { throw Malformed(reason: "leading zero in string length") }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw Malformed(reason: "empty string length") }
        position += 1
        guard length <= buffer.count - position else { throw Malformed(reason: "string runs past the end") }
        let range = position..<(position + length)
        position += length
        return range
    }

    /// `i<digits>e`, at most 18 digits (every KRPC integer is far smaller).
    mutating func integer() throws(Malformed) -> Int64 {
        try expect(UInt8(ascii: "i"))
        var negative = false
        if try peek() == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value: Int64 = 0
        var digits = 0
        while true {
            let byte = try peek()
            if byte == UInt8(ascii: "e") { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else {
                throw Malformed(reason: "bad integer")
            }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw Malformed(reason: "empty integer") }
        position += 1
        return negative ? -value : value
    }

    /// Skips one value of any kind, nested at most `maxDepth` deep.
    mutating func skipValue(maxDepth: Int = 16) throws(Malformed) {
        var depth = 0
        repeat {
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "i"):
                _ = try integer()
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                _ = try string()
            case UInt8(ascii: "l"), UInt8(ascii: "d"):
                depth += 1
                guard depth <= maxDepth else { throw Malformed(reason: "nesting too deep") }
                position += 1
            case UInt8(ascii: "e"):
                guard depth > 0 else { throw Malformed(reason: "unexpected end marker") }
                depth -= 1
                position += 1
            default:
                throw Malformed(reason: "unexpected byte")
            }
        } while depth > 0
    }

    /// After `d` or `l`: whether another element follows; consumes the closing `e`.
    mutating func hasNext() throws(Malformed) -> Bool {
        if try peek() == UInt8(ascii: "e") {
            position += 1
            return false
        }
        return true
    }

    /// Whether the bytes at `range` equal `literal`.
    func matches(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        return memcmp(buffer.baseAddress! + range.lowerBound, literal.utf8Start, range.count) == 0
    }
}
