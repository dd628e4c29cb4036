/// A 160-bit DHT node ID (BEP 5), also used as a lookup target and for infohashes.
///
/// Stored as three integers, most significant first, so that XOR distance,
/// comparison and hashing cost a few instructions and no allocation: routing
/// tables and lookups compare IDs constantly.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var middle: UInt64
    public var low: UInt32

    public static let byteCount = 20
    public static let bitCount = 160
    public static let zero = NodeID(high: 0, middle: 0, low: 0)

    public init(high: UInt64, middle: UInt64, low: UInt32) {
        self.high = high
        self.middle = middle
        self.low = low
    }

    /// Fails unless `bytes` holds exactly 20 bytes.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == NodeID.byteCount else { return nil }
        var high: UInt64 = 0, middle: UInt64 = 0, low: UInt32 = 0
        var index = 0
        for byte in bytes {
            switch index {
            case 0..<8: high = high << 8 | UInt64(byte)
            case 8..<16: middle = middle << 8 | UInt64(byte)
            default: low = low << 8 | UInt32(byte)
            }
            index += 1
        }
        self.init(high: high, middle: middle, low: low)
    }

    /// Reads 20 bytes at `offset` of a raw buffer; the caller checks the bounds.
    public init(unsafeBytes buffer: UnsafeRawBufferPointer, at offset: Int) {
        var high: UInt64 = 0, middle: UInt64 = 0, low: UInt32 = 0
        for index in 0..<8 { high = high << 8 | UInt64(buffer[offset + index]) }
        for index in 8..<16 { middle = middle << 8 | UInt64(buffer[offset + index]) }
        for index in 16..<20 { low = low << 8 | UInt32(buffer[offset + index]) }
        self.init(high: high, middle: middle, low: low)
    }

    /// Parses 40 hexadecimal digits.
    public init?(hex: String) {
        guard hex.utf8.count == 40, let bytes = HexDigits.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(20)
        append(to: &out)
        return out
    }

    /// Appends the 20 bytes, most significant first.
    public func append(to out: inout [UInt8]) {
        withUnsafeBytes(of: (high.bigEndian, middle.bigEndian, low.bigEndian)) { raw in
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<20]))
        }
    }

    public var hex: String { HexDigits.encode(bytes) }
    public var description: String { hex }

    /// Kademlia's XOR metric: the distance is itself a 160-bit number.
    public static func ^ (lhs: NodeID, rhs: NodeID) -> NodeID {
        NodeID(high: lhs.high ^ rhs.high, middle: lhs.middle ^ rhs.middle, low: lhs.low ^ rhs.low)
    }

    // Written out: the generic tuple comparison is slow in debug builds,
    // and lookups compare distances constantly.
    @inline(__always)
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        if lhs.high != rhs.high { return lhs.high < rhs.high }
        if lhs.middle != rhs.middle { return lhs.middle < rhs.middle }
        return lhs.low < rhs.low
    }

    /// Number of leading zero bits (160 for the zero ID).
    public var leadingZeroBitCount: Int {
        if high != 0 { return high.leadingZeroBitCount }
        if middle != 0 { return 64 + middle.leadingZeroBitCount }
        if low != 0 { return 128 + low.leadingZeroBitCount }
        return 160
    }

    /// How many leading bits two IDs share.
    public func commonPrefixLength(with other: NodeID) -> Int { (self ^ other).leadingZeroBitCount }

    /// Bit `index` counted from the most significant (0) to the least (159).
    public func bit(_ index: Int) -> Bool {
        precondition(index >= 0 && index < 160)
        switch index {
        case 0..<64: return high >> UInt64(63 - index) & 1 == 1
        case 64..<128: return middle >> UInt64(127 - index) & 1 == 1
        default: return low >> UInt32(159 - index) & 1 == 1
        }
    }

    /// Whether `self` is closer to `target` than `other` is.
    @inline(__always)
    public func isCloser(to target: NodeID, than other: NodeID) -> Bool {
        (self ^ target) < (other ^ target)
    }

    /// An ID that shares the first `prefixLength` bits with `self` and takes
    /// the rest from `random`: a refresh target inside one routing-table bucket.
    public func keepingPrefix(_ prefixLength: Int, randomRest random: NodeID) -> NodeID {
        let length = max(0, min(160, prefixLength))
        let mask = NodeID.prefixMask(length)
        return NodeID(high: (high & mask.high) | (random.high & ~mask.high),
                      middle: (middle & mask.middle) | (random.middle & ~mask.middle),
                      low: (low & mask.low) | (random.low & ~mask.low))
    }

    /// An ID whose first `length` bits are ones, the rest zeros.
    public static func prefixMask(_ length: Int) -> NodeID {
        func ones64(_ count: Int) -> UInt64 { count <= 0 ? 0 : count >= 64 ? .max : ~(UInt64.max >> UInt64(count)) }
        func ones32(_ count: Int) -> UInt32 { count <= 0 ? 0 : count >= 32 ? .max : ~(UInt32.max >> UInt32(count)) }
        return NodeID(high: ones64(length), middle: ones64(length - 64), low: ones32(length - 128))
    }

    /// Flips bit `index` (0 = most significant).
    public func flippingBit(_ index: Int) -> NodeID {
        var copy = self
        switch index {
        case 0..<64: copy.high ^= 1 << UInt64(63 - index)
        case 64..<128: copy.middle ^= 1 << UInt64(127 - index)
        default: copy.low ^= 1 << UInt32(159 - index)
        }
        return copy
    }

    /// A uniformly random ID drawn from `generator`.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> NodeID {
        NodeID(high: generator.next(), middle: generator.next(), low: UInt32(truncatingIfNeeded: generator.next() as UInt64))
    }
}

/// Lowercase hex without depending on Metainfo (Identity sits beside it, not above).
enum HexDigits {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode<C: Sequence>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ char: UInt8) -> UInt8? {
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
