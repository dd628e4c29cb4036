@testable import BitFountain
import Identity
import DHT
import Foundation
import Metainfo
import NIOPosix
import Testing
import TestSupport

/// Our nodes over uTP (issue 12): dialled uTP first, TCP when the peer has no uTP, the same
/// pipeline (MSE, peer wire) over both, and one UDP port shared with the DHT.
@Suite(.serialized) struct SwarmNodeUTPTests {
    typealias Dialing = SwarmNodeDialingTests

    static func options(_ state: String, utp: Bool = true, encryption: EncryptionPolicy = .prefer) -> SwarmNode.Options {
        var options = Dialing.options(state)
        options.utp = utp
        options.encryption = encryption
        return options
    }

    /// A seed dials a passive downloader given as a peer; returns what the seed remembered
    /// about the downloader's address once the download completed, whether it did, and how the
    /// seed's uTP-versus-TCP races went.
    static func seedDials(_ work: TemporaryDirectory, seed: SwarmNode.Options, get: SwarmNode.Options, size: Int = 600_000)
        async throws -> (completed: Bool, remembered: PeerTransport?, utpConnections: Int, races: TransportRaceStatistics?) {
        let (info, content) = try Dialing.torrent(work, "payload.bin", size: size)
        let getNode = SwarmNode(options: get, discovery: NoPeerDiscovery())
        let getPort = try await getNode.start()
        let download = try await getNode.add(TorrentSpec(content: .magnet(MagnetLink(infoHash: info.infoHash)),
                                                         directory: work.file("out"), seedingExistingContent: false))
        let seedNode = SwarmNode(options: seed, discovery: NoPeerDiscovery())
        _ = try await seedNode.start()
        let peer = PeerAddress(host: "127.0.0.1", port: getPort)!
        _ = try await seedNode.add(TorrentSpec(content: .info(info), directory: work.path, seedingExistingContent: true,
                                               peers: [peer]))
        let completed = try await Dialing.completes(download, within: 60)
        let matches = FileManager.default.contents(atPath: work.file("out/payload.bin")) == content
        let remembered = try await seedNode.loop.submit { seedNode.utp?.memory.transport(for: peer) }.get()
        let races = try await seedNode.loop.submit { seedNode.utp?.raceStatistics }.get()
        let utpConnections = try await getNode.loop.submit { getNode.utp?.acceptedConnections ?? 0 }.get()
        await seedNode.shutdown()
        await getNode.shutdown()
        return (completed && matches, remembered, utpConnections, races)
    }

    @Test func twoNodesTalkOverUTPFirst() async throws {
        let work = try TemporaryDirectory("bf-utp-both")
        let result = try await Self.seedDials(work, seed: Self.options(work.file("seed")), get: Self.options(work.file("get")))
        #expect(result.completed)
        #expect(result.remembered == .utp)
        #expect(result.utpConnections >= 1, "the downloader accepted the seed's connection over uTP")
        #expect((result.races?.wonByUTP ?? 0) >= 1)
        #expect(result.races?.tcpAfterUTPFailure == 0)
    }

    @Test func aPeerWithoutUTPIsDialledOverTCPAndRemembered() async throws {
        let work = try TemporaryDirectory("bf-utp-fallback")
        let result = try await Self.seedDials(work, seed: Self.options(work.file("seed")),
                                              get: Self.options(work.file("get"), utp: false))
        #expect(result.completed)
        #expect(result.remembered == .tcp)
        #expect(result.utpConnections == 0)
        // TCP was dialled because uTP's head start ran out, beside the uTP attempt, and won: not
        // after uTP had failed (its timeout), and the seed never counted a failed dial.
        let races = try #require(result.races)
        #expect(races.tcpAfterHeadStart == 1)
        #expect(races.tcpAfterUTPFailure == 0)
        #expect(races.wonByTCP == 1)
        #expect(races.bothFailed == 0)
    }

    @Test func encryptionRequiredRunsOverUTP() async throws {
        let work = try TemporaryDirectory("bf-utp-mse")
        let result = try await Self.seedDials(work, seed: Self.options(work.file("seed"), encryption: .require),
                                              get: Self.options(work.file("get"), encryption: .require))
        #expect(result.completed)
        #expect(result.remembered == .utp)
    }

    /// One UDP port: the node listens on TCP on its DHT's port, uTP peers reach it there, and
    /// the DHT on the same socket still answers.
    @Test func theDHTAndUTPShareOnePort() async throws {
        let work = try TemporaryDirectory("bf-utp-shared")
        var configuration = DHTNodeConfiguration()
        configuration.bindAddress = "127.0.0.1"
        configuration.port = 0
        configuration.bootstrap = []
        let (info, content) = try Dialing.torrent(work, "shared.bin", size: 500_000)
        // The DHT takes any free UDP port; the node then listens on TCP on the same number.
        // Another test may hold that TCP port (the node then takes another): a few tries.
        var dht = try await DHTNode.start(configuration)
        var seedNode = SwarmNode(options: Self.options(work.file("seed")), discovery: NoPeerDiscovery())
        seedNode.shareUDP(with: dht)
        var seedPort = try await seedNode.start()
        for _ in 0..<4 where seedPort != dht.dhtPort {
            await seedNode.shutdown()
            await dht.shutdown()
            dht = try await DHTNode.start(configuration)
            seedNode = SwarmNode(options: Self.options(work.file("seed")), discovery: NoPeerDiscovery())
            seedNode.shareUDP(with: dht)
            seedPort = try await seedNode.start()
        }
        #expect(seedPort == dht.dhtPort)
        _ = try await seedNode.add(TorrentSpec(content: .info(info), directory: work.path, seedingExistingContent: true))

        let getNode = SwarmNode(options: Self.options(work.file("get")), discovery: NoPeerDiscovery())
        _ = try await getNode.start()
        let seedPeer = PeerAddress(host: "127.0.0.1", port: seedPort)!
        let download = try await getNode.add(TorrentSpec(content: .magnet(MagnetLink(infoHash: info.infoHash)),
                                                         directory: work.file("out"), seedingExistingContent: false,
                                                         peers: [seedPeer]))
        #expect(try await Dialing.completes(download, within: 60))
        #expect(FileManager.default.contents(atPath: work.file("out/shared.bin")) == content)
        #expect(try await getNode.loop.submit { getNode.utp?.memory.transport(for: seedPeer) }.get() == .utp)

        var probeConfiguration = configuration
        probeConfiguration.port = 0
        let probe = try await DHTNode.start(probeConfiguration)
        let pong = await probe.ping(dht.listeningAddresses[0])
        #expect(pong != nil, "KRPC on the shared socket still reaches the DHT")
        await probe.shutdown()
        await getNode.shutdown()
        await seedNode.shutdown()
        await dht.shutdown()
    }

    @Test func theTransportMemoryIsBounded() {
        var memory = PeerTransportMemory(capacity: 3)
        for port in UInt16(1)...5 { memory.remember(port.isMultiple(of: 2) ? .tcp : .utp, for: PeerAddress(host: "10.0.0.1", port: port)!) }
        #expect(memory.count == 3)
        #expect(memory.transport(for: PeerAddress(host: "10.0.0.1", port: 1)!) == nil, "the oldest went first")
        #expect(memory.transport(for: PeerAddress(host: "10.0.0.1", port: 4)!) == .tcp)
        memory.remember(.utp, for: PeerAddress(host: "10.0.0.1", port: 4)!)
        #expect(memory.transport(for: PeerAddress(host: "10.0.0.1", port: 4)!) == .utp)
        #expect(memory.count == 3)
    }
}
