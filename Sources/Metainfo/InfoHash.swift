/// A BitTorrent v1 infohash: the SHA-1 of the bencoded info dictionary.
///
/// Stored as three integers rather than an array so that it is cheap to hash,
/// compare and copy in the DHT's and swarm's tables.
public struct InfoHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    private let high: UInt64
    private let middle: UInt64
    private let low: UInt32

    public static let byteCount = 20

    /// Fails unless `bytes` holds exactly 20 bytes.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == InfoHash.byteCount else { return nil }
        var high: UInt64 = 0, middle: UInt64 = 0, low: UInt32 = 0
        for (index, byte) in bytes.enumerated() {
            switch index {
            case 0..<8: high = high << 8 | UInt64(byte)
            case 8..<16: middle = middle << 8 | UInt64(byte)
            default: low = low << 8 | UInt32(byte)
            }
        }
        self.high = high
        self.middle = middle
        self.low = low
    }

    /// Parses 40 hexadecimal digits (either case) or 32 base32 characters.
    public init?(string: String) {
        if string.utf8.count == 40, let bytes = Hex.decode(string) {
            self.init(bytes: bytes)
        } else if string.utf8.count == 32, let bytes = Base32.decode(string) {
            self.init(bytes: bytes)
        } else {
            return nil
        }
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(20)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: middle >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt32(shift))) }
        return out
    }

    /// Lowercase hex, the form magnet links and most clients print.
    public var hex: String { Hex.encode(bytes) }

    /// Uppercase RFC 4648 base32, the older magnet link form.
    public var base32: String { Base32.encode(bytes) }

    public var description: String { hex }

    public static func < (lhs: InfoHash, rhs: InfoHash) -> Bool {
        (lhs.high, lhs.middle, lhs.low) < (rhs.high, rhs.middle, rhs.low)
    }
}
