@testable import BitFountain
import Foundation
import Identity
import Metainfo
import Synchronization
import Testing
import TestSupport

/// Seeds dial the downloaders they learn of, and downloads keep looking while
/// nobody useful is connected (issue 11: stock clients that only wait to be
/// dialled, seeds that announce a minute late, our own announce coming back).
@Suite(.serialized) struct SwarmNodeDialingTests {
    /// Answers lookup number n (from 1) with `answer(n)`; never accepts an announce.
    final class ScriptedDiscovery: PeerDiscovery {
        let lookups = Mutex(0)
        let answer: @Sendable (Int) -> [PeerAddress]

        init(answer: @escaping @Sendable (Int) -> [PeerAddress]) { self.answer = answer }

        func findPeers(for infoHash: InfoHash) -> AsyncStream<PeerAddress> {
            let peers = answer(lookups.withLock { $0 += 1; return $0 })
            return AsyncStream { continuation in
                for peer in peers { continuation.yield(peer) }
                continuation.finish()
            }
        }

        func announce(_ infoHash: InfoHash, port: UInt16) async -> Int { 1 }
    }

    static func options(_ state: String) -> SwarmNode.Options {
        var options = SwarmNode.Options()
        options.bindHost = "127.0.0.1"
        options.port = 0
        options.stateDirectory = state
        options.announceInterval = 3600
        options.lookupInterval = 3600
        return options
    }

    static func torrent(_ work: TemporaryDirectory, _ name: String, size: Int) throws -> (TorrentInfo, Data) {
        let content = try Swarm.writeRandomFile(work.file(name), size: size)
        let info = try TorrentBuilder(path: work.file(name), nodes: [], creationDate: nil).build().torrent.info
        return (info, content)
    }

    /// Polls, so that a failure ends the test in bounded time rather than hanging on `completion`.
    static func completes(_ session: TorrentSession, within seconds: Int) async throws -> Bool {
        try await Waiting.pollAsync(timeout: Double(seconds), every: .milliseconds(100)) {
            try await session.snapshot().get().isComplete ? true : nil
        } ?? false
    }

    /// A downloader that finds no one and is dialled by the seed.
    static func passiveDownload(_ work: TemporaryDirectory, _ info: TorrentInfo) async throws -> (SwarmNode, TorrentSession, UInt16) {
        let node = SwarmNode(options: options(work.file("get-state")), discovery: NoPeerDiscovery())
        let port = try await node.start()
        let session = try await node.add(TorrentSpec(content: .magnet(MagnetLink(infoHash: info.infoHash)),
                                                     directory: work.file("out"), seedingExistingContent: false))
        return (node, session, port)
    }

    @Test func aSeedDialsTheDownloadersItsLookupsFind() async throws {
        let work = try TemporaryDirectory("bf-seed-dials")
        let (info, content) = try Self.torrent(work, "dialled.bin", size: 400_000)
        let (getNode, download, getPort) = try await Self.passiveDownload(work, info)

        let discovery = ScriptedDiscovery { _ in [PeerAddress(host: "127.0.0.1", port: getPort)!] }
        let seedNode = SwarmNode(options: Self.options(work.file("seed-state")), discovery: discovery)
        _ = try await seedNode.start()
        _ = try await seedNode.add(TorrentSpec(content: .info(info), directory: work.path, seedingExistingContent: true))
        #expect(try await Self.completes(download, within: 60))
        #expect(FileManager.default.contents(atPath: work.file("out/dialled.bin")) == content)
        #expect(discovery.lookups.withLock { $0 } >= 1, "the seed looked up peers although it is complete")
        await seedNode.shutdown()
        await getNode.shutdown()
    }

    @Test func aCompleteTorrentStillDialsItsPeerArguments() async throws {
        let work = try TemporaryDirectory("bf-seed-peer-arg")
        let (info, content) = try Self.torrent(work, "given.bin", size: 300_000)
        let (getNode, download, getPort) = try await Self.passiveDownload(work, info)

        let seedNode = SwarmNode(options: Self.options(work.file("seed-state")), discovery: NoPeerDiscovery())
        _ = try await seedNode.start()
        _ = try await seedNode.add(TorrentSpec(content: .info(info), directory: work.path, seedingExistingContent: true,
                                               peers: [PeerAddress(host: "127.0.0.1", port: getPort)!]))
        #expect(try await Self.completes(download, within: 60))
        #expect(FileManager.default.contents(atPath: work.file("out/given.bin")) == content)
        await seedNode.shutdown()
        await getNode.shutdown()
    }

    @Test func ownAnnouncesAndDeadPortsDoNotCountAndTheLateSeedIsFound() async throws {
        let work = try TemporaryDirectory("bf-late-seed")
        let (info, content) = try Self.torrent(work, "late.bin", size: 300_000)
        let seedNode = SwarmNode(options: Self.options(work.file("seed-state")), discovery: NoPeerDiscovery())
        let seedPort = try await seedNode.start()
        _ = try await seedNode.add(TorrentSpec(content: .info(info), directory: work.path, seedingExistingContent: true))

        let getPort = Mutex<UInt16>(0)
        // Lookups 1–2 find only our own announce and a port nobody listens on (the
        // seed "announces late"); from the third on, the seed is there too.
        let dead = PeerAddress(host: "127.0.0.1", port: 1)!
        let discovery = ScriptedDiscovery { n in
            let own = PeerAddress(host: "127.0.0.1", port: getPort.withLock { $0 })!
            return n < 3 ? [own, dead] : [own, dead, PeerAddress(host: "127.0.0.1", port: seedPort)!]
        }
        let getNode = SwarmNode(options: Self.options(work.file("get-state")), discovery: discovery)
        let port = try await getNode.start()
        getPort.withLock { $0 = port }
        let started = ContinuousClock.now
        let download = try await getNode.add(TorrentSpec(content: .magnet(MagnetLink(infoHash: info.infoHash)),
                                                         directory: work.file("out"), seedingExistingContent: false))
        #expect(try await Self.completes(download, within: 60))
        #expect(ContinuousClock.now - started < .seconds(40), "looked again within seconds, not lookupInterval (an hour)")
        #expect(discovery.lookups.withLock { $0 } >= 3)
        #expect(FileManager.default.contents(atPath: work.file("out/late.bin")) == content)
        let dialledSelf = try await getNode.loop.submit { download.addressBook.contains(PeerAddress(host: "127.0.0.1", port: port)!) }.get()
        #expect(!dialledSelf, "our own address never enters the book")
        await getNode.shutdown()
        await seedNode.shutdown()
    }
}
