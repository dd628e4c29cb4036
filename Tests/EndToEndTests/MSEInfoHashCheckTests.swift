@testable import BitFountain
import Foundation
import Identity
import Metainfo
import NIOCore
import NIOPosix
import PeerWire
import Synchronization
import Testing
import TestSupport

/// After an incoming MSE handshake, the BitTorrent handshake inside the stream
/// must name the torrent the MSE handshake's SKEY named; a peer that sets the
/// stream up for one torrent and then asks for another is disconnected
/// (libtorrent checks this too).
@Suite(.serialized) struct MSEInfoHashCheckTests {
    /// Sends a BitTorrent handshake for `infoHash` once the stream is up, and records what comes back.
    final class HandshakeSender: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let infoHash: InfoHash
        let received = Mutex<[UInt8]>([])
        let closed = Mutex(false)

        init(infoHash: InfoHash) { self.infoHash = infoHash }

        func channelActive(context: ChannelHandlerContext) {
            // Held by the MSE handler and sent encrypted as IA in step 3, as a real dial does.
            let handshake = Handshake(reserved: .bitFountain, infoHash: infoHash, peerID: .generate())
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: handshake.encoded)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            received.withLock { $0 += bytes }
        }

        func channelInactive(context: ChannelHandlerContext) { closed.withLock { $0 = true } }
    }

    /// Dials `port` with MSE (RC4) set up for `skey`, then sends a handshake for `named`.
    static func dial(port: UInt16, skey: InfoHash, named: InfoHash) async throws -> HandshakeSender {
        let sender = HandshakeSender(infoHash: named)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        MSEChannelHandler(role: .outgoing(skey, offer: .rc4, plaintextRetry: nil)))
                    try channel.pipeline.syncOperations.addHandler(sender)
                }
            }
            .connect(host: "127.0.0.1", port: Int(port)).get()
        // Either the node answers with its handshake or it closes; wait for one, bounded.
        _ = try await Waiting.poll(timeout: 20) {
            sender.closed.withLock { $0 } || sender.received.withLock { $0.count } >= Handshake.length ? true : nil
        }
        try? await channel.close().get()
        return sender
    }

    @Test func aHandshakeForAnotherTorrentThanSKEYIsRefused() async throws {
        let work = try TemporaryDirectory("bf-mse-skey")
        let (first, _) = try SwarmNodeDialingTests.torrent(work, "first.bin", size: 100_000)
        let (second, _) = try SwarmNodeDialingTests.torrent(work, "second.bin", size: 100_000)
        let node = SwarmNode(options: SwarmNodeDialingTests.options(work.file("state")), discovery: NoPeerDiscovery())
        let port = try await node.start()
        for info in [first, second] {
            _ = try await node.add(TorrentSpec(content: .info(info), directory: work.path, seedingExistingContent: true))
        }

        let mismatched = try await Self.dial(port: port, skey: first.infoHash, named: second.infoHash)
        #expect(mismatched.closed.withLock { $0 }, "the node closed the connection")
        #expect(mismatched.received.withLock { $0 }.count < Handshake.length, "and never answered with a handshake")

        // The same node answers a stream whose handshake matches its SKEY (both torrents are served).
        let matched = try await Self.dial(port: port, skey: second.infoHash, named: second.infoHash)
        let answer = matched.received.withLock { $0 }
        #expect(answer.count >= Handshake.length)
        #expect((try? Handshake(decoding: Array(answer.prefix(Handshake.length))))?.infoHash == second.infoHash)

        await node.shutdown()
    }
}
