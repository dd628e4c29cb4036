import Crypto
import Testing
@testable import Metainfo

@Suite("Sixteen-lane SHA-1")
struct MultiBufferSHA1Tests {
    /// Every lane's digest equals swift-crypto's, for lengths around every block
    /// and padding boundary, fed in one go or in 64-byte-multiple chunks.
    @Test("digests match swift-crypto's SHA-1", arguments: [1, 3, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 16384, 65536 + 17])
    func matchesReference(length: Int) throws {
        try #require(MultiBufferSHA1.isAvailable, "this test machine has AVX-512; the fallback is swift-crypto itself")
        var generator = UInt64(length)
        let lanes = MultiBufferSHA1.lanes
        let stride = (length + 63) / 64 * 64 + 64
        var buffer = [UInt8](repeating: 0, count: lanes * stride)
        for index in buffer.indices {
            generator = generator &* 6364136223846793005 &+ 1442695040888963407
            buffer[index] = UInt8(truncatingIfNeeded: generator >> 33)
        }
        let expected = (0..<lanes).map { Array(Insecure.SHA1.hash(data: buffer[($0 * stride)..<($0 * stride + length)])) }

        for chunk in [length, 64, 128 * 3] where chunk % 64 == 0 || chunk >= length {
            var hasher = MultiBufferSHA1(messageLength: length)
            var position = 0
            var digests: [UInt8]?
            while position < length {
                let take = min(chunk, length - position)
                let offsets = (0..<lanes).map { Int32($0 * stride + position) }
                digests = buffer.withUnsafeBytes { hasher.feed($0, offsets: offsets, length: take) }
                position += take
            }
            let result = try #require(digests)
            for lane in 0..<lanes {
                #expect(Array(result[(lane * 20)..<(lane * 20 + 20)]) == expected[lane], "length \(length), chunk \(chunk), lane \(lane)")
            }
        }
    }

    @Test("lanes may share a message (unused lanes repeat one)")
    func sharedLanes() throws {
        try #require(MultiBufferSHA1.isAvailable)
        let message = [UInt8](repeating: 0x61, count: 1_000)
        var hasher = MultiBufferSHA1(messageLength: message.count)
        let digests = try #require(message.withUnsafeBytes { hasher.feed($0, offsets: [Int32](repeating: 0, count: 16), length: message.count) })
        #expect(Hex.encode(digests[0..<20]) == Hex.encode(Insecure.SHA1.hash(data: message)))
        #expect(digests[0..<20] == digests[300..<320])
    }
}
