import BitFountain
import DHT
import Foundation
import Identity
import Metainfo
import NIOPosix
import Testing
import TestSupport

/// The in-process node runtime as the swarm engine uses it: through `PeerDiscovery`.
@Suite(.serialized) struct DHTNodeRuntimeTests {
    /// Joining takes milliseconds here, but on a loaded machine a first query
    /// can time out (4 s) and the bootstrap then waits 5 s before it retries.
    static let joinTimeout: Duration = .seconds(30)

    func configuration(stateDirectory: String?, bootstrap: [NodeAddress], group: MultiThreadedEventLoopGroup?) -> DHTNodeConfiguration {
        var configuration = DHTNodeConfiguration()
        configuration.bindAddress = "127.0.0.1"
        configuration.port = 0
        configuration.bootstrap = bootstrap.map { HostPort(host: $0.ip.description, port: $0.port) }
        configuration.stateDirectory = stateDirectory
        configuration.eventLoopGroup = group
        return configuration
    }

    @Test func announceThenFindPeersThroughPeerDiscovery() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let hub = try await DHTNode.start(configuration(stateDirectory: nil, bootstrap: [], group: group))
        let hubAddress = hub.listeningAddresses[0]
        var nodes: [DHTNode] = []
        for _ in 0..<4 {
            nodes.append(try await DHTNode.start(configuration(stateDirectory: nil, bootstrap: [hubAddress], group: group)))
        }
        #expect(await hub.waitForNodes(4, timeout: Self.joinTimeout))

        let infoHash = InfoHash(string: "0123456789abcdef0123456789abcdef01234567")!
        let seeder: any PeerDiscovery = nodes[0]
        await seeder.announce(infoHash, port: 51_413)
        let leecher: any PeerDiscovery = nodes[3]
        var found: [PeerAddress] = []
        for await peer in leecher.findPeers(for: infoHash) { found.append(peer) }
        #expect(found.contains(PeerAddress(host: "127.0.0.1", port: 51_413)!), "found \(found)")

        // BEP 5 PORT message: a peer's DHT port gets pinged and joins the table.
        let loner = try await DHTNode.start(configuration(stateDirectory: nil, bootstrap: [], group: group))
        let lonerAddress = loner.listeningAddresses[0]
        await (nodes[1] as any PeerDiscovery).learnedDHTNode(lonerAddress)
        #expect(await loner.waitForNodes(1, timeout: Self.joinTimeout))

        let reply = await nodes[2].ping(hubAddress)
        #expect(reply?.tier == .verified)
        #expect(reply?.id == (await hub.nodeID(for: .v4)))

        for node in nodes + [hub, loner] { await node.shutdown() }
        // After shutdown, lookups end at once instead of hanging.
        var late = 0
        for await _ in nodes[0].findPeers(for: infoHash) { late += 1 }
        #expect(late == 0)
        try await group.shutdownGracefully()
    }

    @Test func stateIsSavedOnShutdownAndReloaded() async throws {
        let directory = try TemporaryDirectory("bf-dht-runtime")
        let other = try await DHTNode.start(configuration(stateDirectory: nil, bootstrap: [], group: nil))
        let first = try await DHTNode.start(configuration(stateDirectory: directory.path, bootstrap: [other.listeningAddresses[0]],
                                                          group: nil))
        #expect(await first.waitForNodes(1, timeout: Self.joinTimeout))
        let id = await first.nodeID(for: .v4)
        await first.shutdown()
        await first.shutdown()  // twice is harmless

        let store = DHTStateStore(directory: directory.path)
        let snapshot = try #require(store.loadSnapshot())
        #expect(snapshot.nodes.map(\.contact.address) == other.listeningAddresses)
        #expect(snapshot.nodeIDs[.v4] == id)

        let again = try await DHTNode.start(configuration(stateDirectory: directory.path, bootstrap: [], group: nil))
        #expect(await again.nodeID(for: .v4) == id)
        #expect(await again.waitForNodes(1, timeout: Self.joinTimeout), "saved nodes are pinged and come back")
        await again.shutdown()
        await other.shutdown()
    }

    @Test func aDamagedStateFileIsReportedAndIgnoredButABadKeyIsAnError() async throws {
        let directory = try TemporaryDirectory("bf-dht-damaged")
        let store = DHTStateStore(directory: directory.path)
        try store.prepare()
        try Data("not bencode".utf8).write(to: URL(fileURLWithPath: store.statePath))
        let warnings = WarningLog()
        let node = try await DHTNode.start(configuration(stateDirectory: directory.path, bootstrap: [], group: nil)) {
            warnings.append($0)
        }
        await node.shutdown()
        #expect(warnings.messages.contains { $0.contains("dht-state.benc") })
        #expect(store.loadSnapshot() != nil, "replaced by a good file at shutdown")

        try Data("garbage".utf8).write(to: URL(fileURLWithPath: store.keyPath))
        await #expect(throws: (any Error).self) {
            _ = try await DHTNode.start(configuration(stateDirectory: directory.path, bootstrap: [], group: nil))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.keyPath)) == Data("garbage".utf8), "never silently replaced")
    }

    @Test func embeddedNodesShareAMachine() async throws {
        let directory = try TemporaryDirectory("bf-dht-embedded")
        // Bootstrap from a closed loopback port: tests never reach the real DHT.
        let nowhere = [HostPort(host: "127.0.0.1", port: 9)]
        let first = try await DHTNode.startEmbedded(bootstrap: nowhere, bindHost: "127.0.0.1", stateDirectory: directory.file("a"))
        let second = try await DHTNode.startEmbedded(bootstrap: nowhere, bindHost: "127.0.0.1", stateDirectory: directory.file("b"))
        #expect(first.listeningAddresses.count == 1 && second.listeningAddresses.count == 1)
        #expect(first.listeningAddresses != second.listeningAddresses, "the second one falls back to a free port")
        await first.shutdown()
        await second.shutdown()
        #expect(FileManager.default.fileExists(atPath: directory.file("a/node.key")))
    }

    @Test func ipv6Loopback() async throws {
        var first = configuration(stateDirectory: nil, bootstrap: [], group: nil)
        first.bindAddress = "::1"
        let a = try await DHTNode.start(first)
        var second = configuration(stateDirectory: nil, bootstrap: a.listeningAddresses, group: nil)
        second.bindAddress = "::1"
        let b = try await DHTNode.start(second)
        #expect(a.listeningAddresses.first?.family == .v6)
        #expect(await a.waitForNodes(1, timeout: Self.joinTimeout))
        let infoHash = InfoHash(string: "00000000000000000000000000000000000000aa")!
        await a.announce(infoHash, port: 6_000)
        var found: [PeerAddress] = []
        for await peer in b.findPeers(for: infoHash) { found.append(peer) }
        #expect(found == [PeerAddress(host: "::1", port: 6_000)!])
        await a.shutdown()
        await b.shutdown()
    }
}

final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ message: String) {
        lock.lock()
        stored.append(message)
        lock.unlock()
    }

    var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
