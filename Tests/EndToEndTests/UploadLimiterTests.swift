import Foundation
import Identity
import Metainfo
import NIOCore
import NIOEmbedded
import Testing
@testable import BitFountain

/// `--upload-limit` meters what the socket sees: protocol messages use up the
/// budget exactly as block and symbol payloads do.
@Suite struct UploadLimiterTests {
    private func written(_ channel: EmbeddedChannel) throws -> Int {
        var total = 0
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { total += buffer.readableBytes }
        return total
    }

    @Test func protocolBytesUseUpTheBudgetAndHoldBackWhatFollows() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        // 10,000 B/s starts with a 200-byte burst.
        let limiter = UploadLimiter(bytesPerSecond: 10_000, loop: loop)
        let connection = PeerConnection(key: 1, channel: channel, address: PeerAddress(host: "127.0.0.1", port: 6881)!,
                                        outgoing: true, limiter: limiter)

        // A large protocol message (a bitfield, say) goes while there is credit
        // and leaves the bucket about 10,000 bytes, one second, in debt.
        connection.sendRaw([UInt8](repeating: 0xFF, count: 10_200))
        connection.flush()
        #expect(try written(channel) == 10_200)

        connection.sendRaw([0, 0, 0, 5, 4, 0, 0, 0, 7])  // a `have`
        connection.flush()
        #expect(try written(channel) == 0, "held back until the debt is paid")

        Thread.sleep(forTimeInterval: 1.3)  // the bucket refills by the clock
        loop.advanceTime(by: .milliseconds(10))  // the limiter's wake-up timer
        #expect(try written(channel) == 9)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func withoutALimitNothingWaits() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let connection = PeerConnection(key: 1, channel: channel, address: PeerAddress(host: "127.0.0.1", port: 6881)!,
                                        outgoing: true, limiter: UploadLimiter(bytesPerSecond: nil, loop: loop))
        for _ in 0..<100 {
            connection.sendRaw([UInt8](repeating: 1, count: 10_000))
            connection.flush()
        }
        #expect(try written(channel) == 1_000_000)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
