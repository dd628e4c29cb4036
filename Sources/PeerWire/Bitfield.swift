/// A set of piece indices in BitTorrent's wire order: piece 0 is the high bit
/// of byte 0. Keeps a count of set bits so "is complete" and "how many" are O(1).
public struct Bitfield: Hashable, Sendable {
    public let count: Int
    public private(set) var bytes: [UInt8]
    public private(set) var setCount: Int

    public init(count: Int, allSet: Bool = false) {
        precondition(count >= 0)
        self.count = count
        bytes = [UInt8](repeating: allSet ? 0xFF : 0, count: (count + 7) / 8)
        setCount = allSet ? count : 0
        if allSet { clearSpareBits() }
    }

    /// Wraps the payload of a `bitfield` message; fails when its length does not
    /// match `count` or a spare bit past the last piece is set (BEP 3 says drop such peers).
    public init?(count: Int, bytes: [UInt8]) {
        guard bytes.count == (count + 7) / 8 else { return nil }
        if count % 8 != 0, let last = bytes.last, last & (0xFF >> UInt8(count % 8)) != 0 { return nil }
        self.count = count
        self.bytes = bytes
        setCount = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// Wraps a peer's `bitfield` as libtorrent reads it: the length must match
    /// `count`, but spare bits past the last piece are ignored (cleared) rather
    /// than fatal. BEP 3 says a client *may* drop such a peer; nothing is gained
    /// by it, and the bits carry no piece.
    public init?(count: Int, wireBytes: [UInt8]) {
        guard wireBytes.count == (count + 7) / 8 else { return nil }
        var bytes = wireBytes
        if count % 8 != 0, !bytes.isEmpty { bytes[bytes.count - 1] &= ~(0xFF >> UInt8(count % 8)) }
        self.init(count: count, bytes: bytes)
    }

    public subscript(index: Int) -> Bool {
        get { bytes[index >> 3] & (0x80 >> UInt8(index & 7)) != 0 }
        set {
            let mask: UInt8 = 0x80 >> UInt8(index & 7)
            let old = bytes[index >> 3]
            let was = old & mask != 0
            guard was != newValue else { return }
            bytes[index >> 3] = newValue ? old | mask : old & ~mask
            setCount += newValue ? 1 : -1
        }
    }

    public var isComplete: Bool { setCount == count }
    public var isEmpty: Bool { setCount == 0 }

    /// Indices of set bits, in order.
    public var setIndices: [Int] {
        var out: [Int] = []
        out.reserveCapacity(setCount)
        for (byteIndex, byte) in bytes.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (0x80 >> UInt8(bit)) != 0 { out.append(byteIndex * 8 + bit) }
        }
        return out
    }

    private mutating func clearSpareBits() {
        if count % 8 != 0 { bytes[bytes.count - 1] &= ~(0xFF >> UInt8(count % 8)) }
    }
}
