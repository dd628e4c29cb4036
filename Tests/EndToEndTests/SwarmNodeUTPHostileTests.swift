@testable import BitFountain
import Identity
import Foundation
import Metainfo
import NIOCore
import NIOPosix
import Testing
import TestSupport
import UTP

/// A node's uTP port under bad input (issue 12): a SYN flood from many ports and garbage
/// datagrams hold bounded state, build no peer connections, and a real peer is still served.
@Suite(.serialized) struct SwarmNodeUTPHostileTests {
    typealias Dialing = SwarmNodeDialingTests

    static func header(_ type: UTPPacketType, connectionID: UInt16, sequenceNumber: UInt16) -> ByteBuffer {
        UTPPacketCodec.encode(UTPPacket(header: UTPHeader(
            type: type, connectionID: connectionID, timestampMicroseconds: 1, timestampDifferenceMicroseconds: 0,
            windowSize: 1 << 20, sequenceNumber: sequenceNumber, ackNumber: 0)))
    }

    @Test func aSynFloodAndGarbageFromManyPortsLeaveTheNodeServingARealPeer() async throws {
        let work = try TemporaryDirectory("bf-utp-flood")
        let (info, content) = try Dialing.torrent(work, "flooded.bin", size: 400_000)
        let seedNode = SwarmNode(options: Dialing.options(work.file("seed")), discovery: NoPeerDiscovery())
        let seedPort = try await seedNode.start()
        _ = try await seedNode.add(TorrentSpec(content: .info(info), directory: work.path, seedingExistingContent: true))
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: Int(seedPort))

        // 64 sockets (64 source ports) × 40 SYNs each, then datagrams of every uTP type with
        // random connection IDs and bodies, and truncated headers.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var attackers: [Channel] = []
        for _ in 0..<64 { attackers.append(try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()) }
        var generator = SystemRandomNumberGenerator()
        for (index, attacker) in attackers.enumerated() {
            for n in 0..<40 {
                let syn = Self.header(.syn, connectionID: UInt16(truncatingIfNeeded: index &* 977 &+ n), sequenceNumber: 1)
                attacker.write(AddressedEnvelope(remoteAddress: target, data: syn), promise: nil)
                var garbage = Self.header(UTPPacketType(rawValue: UInt8(n % 5))!, connectionID: .random(in: 0...UInt16.max, using: &generator),
                                          sequenceNumber: .random(in: 0...UInt16.max, using: &generator))
                garbage.writeBytes((0..<(n * 7)).map { _ in UInt8.random(in: 0...255, using: &generator) })
                if n % 3 == 0 { garbage = garbage.getSlice(at: 0, length: n % 20)! }
                attacker.write(AddressedEnvelope(remoteAddress: target, data: garbage), promise: nil)
            }
            try await attacker.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: [0x41])))
        }

        // A real peer still downloads over uTP while the flood's half-open connections linger.
        let getNode = SwarmNode(options: Dialing.options(work.file("get")), discovery: NoPeerDiscovery())
        _ = try await getNode.start()
        let seed = PeerAddress(host: "127.0.0.1", port: seedPort)!
        // Known to speak uTP, so TCP waits for the whole uTP timeout: the flood, not a busy
        // machine racing TCP past the uTP answer, is what this test is about.
        try await getNode.loop.submit { getNode.utp?.memory.remember(.utp, for: seed) }.get()
        let download = try await getNode.add(TorrentSpec(content: .magnet(MagnetLink(infoHash: info.infoHash)),
                                                         directory: work.file("out"), seedingExistingContent: false, peers: [seed]))
        #expect(try await Dialing.completes(download, within: 60))
        #expect(FileManager.default.contents(atPath: work.file("out/flooded.bin")) == content)
        #expect(try await getNode.loop.submit { getNode.utp?.memory.transport(for: seed) }.get() == .utp)

        let (connections, statistics, accepted) = try await seedNode.loop.submit {
            (seedNode.utp!.socket.connectionCount, seedNode.utp!.socket.statistics, seedNode.utp!.acceptedConnections)
        }.get()
        let configuration = UTPSocketManager<SocketAddress>.Configuration()
        #expect(connections <= configuration.maximumHalfOpenConnections + 2, "half-open connections are bounded")
        #expect(statistics.halfOpenEvicted > 0, "the flood pushed out older half-open connections")
        #expect(statistics.malformedDatagrams > 0)
        #expect((1...2).contains(accepted), "only the real peer's connection reached the pipeline, none for an unconfirmed SYN")

        for attacker in attackers { try await attacker.close() }
        try await group.shutdownGracefully()
        await getNode.shutdown()
        await seedNode.shutdown()
    }
}
