/// The selective-ACK extension (BEP 29 extension type 1): a bitmask of packets received past
/// `ack_nr + 1`. Bit *i* (counting from the least significant bit of the first byte)
/// stands for sequence number `ack_nr + 2 + i`; `ack_nr + 1` is implicitly missing.
public struct UTPSelectiveAck: Equatable, Hashable, Sendable {
    /// BEP 29 extension type of the selective ACK.
    public static let extensionType: UInt8 = 1
    /// The largest bitmask accepted: the extension's length byte caps it at 255, and it must be
    /// a multiple of 4.
    public static let maximumByteCount = 252

    /// Length is a multiple of 4, between 4 and `maximumByteCount` (checked by the decoder and
    /// by `init(acked:)`).
    public private(set) var bitmask: [UInt8]

    /// Wraps a bitmask from the wire; returns nil when its length is not a positive multiple
    /// of 4 within bounds.
    public init?(bitmask: [UInt8]) {
        guard Self.isValidLength(bitmask.count) else { return nil }
        self.bitmask = bitmask
    }

    /// Builds the smallest bitmask (in 4-byte steps) that covers the offsets in `acked`, where
    /// offset 0 means `ack_nr + 2`. Offsets past `maximumByteCount * 8` are left out.
    /// Returns nil when no offset remains.
    public init?(ackedOffsets acked: some Sequence<Int>) {
        let limit = Self.maximumByteCount * 8
        let kept = acked.filter { $0 >= 0 && $0 < limit }
        guard let highest = kept.max() else { return nil }
        let byteCount = (highest / 32 + 1) * 4
        var mask = [UInt8](repeating: 0, count: byteCount)
        for offset in kept { mask[offset >> 3] |= 1 << UInt8(offset & 7) }
        self.bitmask = mask
    }

    static func isValidLength(_ count: Int) -> Bool {
        count >= 4 && count <= maximumByteCount && count % 4 == 0
    }

    /// Number of sequence numbers the bitmask describes.
    public var bitCount: Int { bitmask.count * 8 }

    /// Whether the packet `ack_nr + 2 + offset` is reported received.
    public func isAcked(offset: Int) -> Bool {
        guard offset >= 0, offset < bitCount else { return false }
        return bitmask[offset >> 3] & (1 << UInt8(offset & 7)) != 0
    }

    /// The offsets reported received, ascending.
    public var ackedOffsets: [Int] { (0..<bitCount).filter(isAcked(offset:)) }
}
