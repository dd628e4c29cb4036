@testable import BitFountain
import Metainfo
import NIOCore
import NIOEmbedded
import PeerWire
import Testing

private let torrent = InfoHash(bytes: [UInt8](repeating: 0x42, count: 20))!

/// Stands in for `PeerChannelHandler`: a 68-byte "handshake" (the dialler sends
/// it on `channelActive`, the other side answers once it has the peer's), then
/// everything else it receives is recorded.
private final class FakePeerWire: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let greeting: [UInt8]
    let dials: Bool
    var received: [UInt8] = []
    var answered = false
    var sawInactive = false

    init(dials: Bool) {
        self.dials = dials
        greeting = [19] + Array("BitTorrent protocol".utf8) + [UInt8](repeating: dials ? 1 : 2, count: 48)
    }

    func channelActive(context: ChannelHandlerContext) {
        if dials { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: greeting)), promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytesView
        if !dials, !answered, received.count >= 68 {
            answered = true
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: greeting)), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) { sawInactive = true }
}

/// One simulated TCP connection between a dialler (A) and a listener (B).
private struct Link {
    let a: EmbeddedChannel
    let b: EmbeddedChannel
    let peerA = FakePeerWire(dials: true)
    let peerB = FakePeerWire(dials: false)
    /// Every byte A put on the wire, to check what an observer would see.
    var wireFromA: [UInt8] = []

    init(outgoing: EncryptionPolicy, incoming: EncryptionPolicy, plaintextDial: Bool = false,
         retry: @escaping () -> Void = {}) throws {
        a = EmbeddedChannel()
        b = EmbeddedChannel()
        if !plaintextDial, let offer = outgoing.outgoingOffer {
            let handler = MSEChannelHandler(role: .outgoing(torrent, offer: offer,
                                                            plaintextRetry: outgoing.retriesInPlaintext ? retry : nil))
            try a.pipeline.syncOperations.addHandler(handler)
        }
        try a.pipeline.syncOperations.addHandler(peerA)
        try b.pipeline.syncOperations.addHandler(MSEChannelHandler(role: .incoming(incoming, lookup: { req2 in
            MSEHashes.req2(infoHash: torrent) == req2 ? torrent : nil
        })))
        try b.pipeline.syncOperations.addHandler(peerB)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 6881)
        try b.connect(to: address).wait()
        try a.connect(to: address).wait()
    }

    /// Moves bytes both ways until nothing moves; a side that closes ends the link
    /// (the other side then sees its connection closed too, as TCP would show it).
    mutating func run(thenSend extra: [UInt8] = []) throws {
        var sentExtra = false
        for _ in 0..<1000 {
            var moved = false
            while a.isActive, b.isActive, let out = try a.readOutbound(as: ByteBuffer.self) {
                moved = true
                wireFromA += out.readableBytesView
                try b.writeInbound(out)
            }
            while a.isActive, b.isActive, let out = try b.readOutbound(as: ByteBuffer.self) {
                moved = true
                try a.writeInbound(out)
            }
            if !sentExtra, !extra.isEmpty, connected {
                sentExtra = true
                moved = true
                a.writeAndFlush(ByteBuffer(bytes: extra), promise: nil)
            }
            if !moved { break }
        }
        if !b.isActive, a.isActive { _ = try? a.close().wait() }
        if !a.isActive, b.isActive { _ = try? b.close().wait() }
    }

    var connected: Bool {
        peerA.received.starts(with: peerB.greeting) && peerB.received.starts(with: peerA.greeting)
    }

    /// Whether B's side still decrypts (RC4 selected) rather than having handed over a plaintext stream.
    var rc4: Bool { (try? b.pipeline.syncOperations.handler(type: MSEChannelHandler.self)) != nil }
}

@Suite("MSE channel handler")
struct MSEChannelHandlerTests {
    enum Outcome: Equatable { case plaintext, mseWithPlaintextPayload, rc4, plaintextAfterRetry, refused }

    /// Outgoing policy, incoming policy, what should happen.
    static let pairs: [(EncryptionPolicy, EncryptionPolicy, Outcome)] = [
        (.prefer, .prefer, .mseWithPlaintextPayload),
        (.prefer, .require, .rc4),
        (.prefer, .disable, .plaintextAfterRetry),
        (.require, .prefer, .rc4),
        (.require, .require, .rc4),
        (.require, .disable, .refused),
        (.disable, .prefer, .plaintext),
        (.disable, .require, .refused),
        (.disable, .disable, .plaintext),
    ]

    @Test("every policy pair: who connects, how, and what crosses the wire", arguments: pairs)
    func policyPairs(outgoing: EncryptionPolicy, incoming: EncryptionPolicy, expected: Outcome) throws {
        var retried = false
        var link = try Link(outgoing: outgoing, incoming: incoming, retry: { retried = true })
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try link.run(thenSend: payload)
        var outcome: Outcome
        if link.connected {
            #expect(link.peerB.received == link.peerA.greeting + payload, "the stream arrives intact")
            let greetingInClear = link.wireFromA.starts(with: link.peerA.greeting)
            let payloadInClear = link.wireFromA.suffix(payload.count).elementsEqual(payload)
            if link.rc4 {
                #expect(!greetingInClear && !payloadInClear)
                outcome = .rc4
            } else if greetingInClear {
                #expect(payloadInClear)
                outcome = .plaintext
            } else {
                #expect(payloadInClear, "plaintext selected: only the handshake is obfuscated")
                outcome = .mseWithPlaintextPayload
            }
        } else {
            outcome = .refused
            #expect(!link.a.isActive && !link.b.isActive)
            #expect(link.peerA.sawInactive != retried, "a retried dial is not reported closed")
            if retried {
                var again = try Link(outgoing: outgoing, incoming: incoming, plaintextDial: true)
                try again.run(thenSend: payload)
                if again.connected, again.wireFromA.starts(with: again.peerA.greeting) {
                    #expect(again.peerB.received == again.peerA.greeting + payload)
                    outcome = .plaintextAfterRetry
                }
            }
        }
        #expect(outcome == expected)
    }

    @Test("a plaintext handshake that arrives a byte at a time is still recognised")
    func tricklingPlaintext() throws {
        let b = EmbeddedChannel()
        let peer = FakePeerWire(dials: false)
        try b.pipeline.syncOperations.addHandler(MSEChannelHandler(role: .incoming(.prefer, lookup: { _ in nil })))
        try b.pipeline.syncOperations.addHandler(peer)
        try b.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let greeting = FakePeerWire(dials: true).greeting
        for byte in greeting { try b.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(peer.received == greeting)
        #expect((try? b.pipeline.syncOperations.handler(type: MSEChannelHandler.self)) == nil, "the handler left the pipeline")
    }

    @Test("garbage on the listening port closes the connection without passing anything on")
    func garbageClosed() throws {
        let b = EmbeddedChannel()
        let peer = FakePeerWire(dials: false)
        try b.pipeline.syncOperations.addHandler(MSEChannelHandler(role: .incoming(.prefer, lookup: { _ in nil })))
        try b.pipeline.syncOperations.addHandler(peer)
        try b.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        _ = try? b.writeInbound(ByteBuffer(bytes: [UInt8](repeating: 0x20, count: 4096)))
        #expect(!b.isActive)
        #expect(peer.received.isEmpty)
    }
}
