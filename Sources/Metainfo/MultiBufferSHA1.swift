import CSHA1

/// SHA-1 of sixteen equal-length messages at once (AVX-512), fed in chunks.
///
/// One core hashes about three times as fast this way as with the SHA
/// instructions one message at a time, which is what lets `create` and
/// rechecks outrun the disk. Lane `i` reads `lanes[i]`, a region of one
/// caller-owned buffer.
public struct MultiBufferSHA1 {
    public static let lanes = Int(BF_SHA1X16_LANES)
    /// True when this CPU can run it; otherwise use `Insecure.SHA1` per message.
    public static let isAvailable: Bool = bf_sha1x16_available() == 1

    private var state = bf_sha1x16_state()
    private let totalLength: Int
    private var consumed = 0

    /// Starts sixteen messages of `totalLength` bytes each.
    public init(messageLength totalLength: Int) {
        precondition(MultiBufferSHA1.isAvailable, "check MultiBufferSHA1.isAvailable first")
        self.totalLength = totalLength
        bf_sha1x16_init(&state)
    }

    /// Feeds the next `length` bytes of every message; lane `i` reads them at
    /// `buffer[offsets[i]...]`. Every call but the last must feed a multiple of 64 bytes.
    /// Returns the sixteen digests (20 bytes each, lane order) after the last bytes.
    public mutating func feed(_ buffer: UnsafeRawBufferPointer, offsets: [Int32], length: Int) -> [UInt8]? {
        precondition(offsets.count == MultiBufferSHA1.lanes && consumed + length <= totalLength)
        precondition(offsets.allSatisfy { $0 >= 0 && Int($0) + length <= buffer.count }, "lane outside the buffer")
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let fullBlocks = length / 64
        offsets.withUnsafeBufferPointer { bf_sha1x16_update(&state, base, $0.baseAddress!, fullBlocks) }
        consumed += length
        guard consumed == totalLength else {
            precondition(length % 64 == 0, "only the last feed may end inside a block")
            return nil
        }
        let tailOffsets = offsets.map { $0 + Int32(fullBlocks * 64) }
        var digests = [UInt8](repeating: 0, count: MultiBufferSHA1.lanes * 20)
        tailOffsets.withUnsafeBufferPointer { tails in
            digests.withUnsafeMutableBufferPointer { out in
                bf_sha1x16_finish(&state, base, tails.baseAddress!, length - fullBlocks * 64, UInt64(totalLength), out.baseAddress!)
            }
        }
        return digests
    }
}
