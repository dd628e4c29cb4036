@testable import BitFountain
import Foundation
import Metainfo
import Testing
import TestSupport

/// `Session`, the library's entry point, end to end on 127.0.0.1: a seeding
/// session and a downloading one, driven only through the public API.
@Suite(.serialized) struct SessionTests {
    @Test func addsByEverySourceKindAndDownloadsEach() async throws {
        let work = try TemporaryDirectory("bf-session-add")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["a.bin": 300_000, "b.bin": 200_000,
                                                                                 "c.bin": 150_000, "d.bin": 100_000],
                                                               state: work.file("seed-state"))
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let seedPeer = SessionHarness.peer(seed)
        let downloads = work.file("downloads")

        // A magnet link carrying the seed's address.
        var magnet = try MagnetLink(parsing: published["a.bin"]!.magnetLink)
        magnet.peers = [HostPort(host: "127.0.0.1", port: seedPeer.port)]
        let byMagnet = try await getter.add(.magnet(magnet), options: AddOptions(savePath: downloads))
        // The .torrent's bytes.
        let torrentB = try TorrentBuilder(path: work.file("b.bin"), nodes: [], creationDate: nil).build()
        let byFile = try await getter.add(.torrentFile(torrentB.bytes), options: AddOptions(savePath: downloads, peers: [seedPeer]))
        // A bare infohash.
        let byHash = try await getter.add(.infoHash(published["c.bin"]!.infoHash), options: AddOptions(savePath: downloads, peers: [seedPeer]))
        // An http URL of a .torrent, served by a local HTTP server.
        let torrentD = try TorrentBuilder(path: work.file("d.bin"), nodes: [], creationDate: nil).build()
        let served = work.file("served")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try Data(torrentD.bytes).write(to: URL(fileURLWithPath: served + "/d.torrent"))
        let server = try LocalHTTPServer(directory: served)
        defer { server.stop() }
        let httpPort = try await server.port()
        let byURL = try await getter.add(.url(URL(string: "http://127.0.0.1:\(httpPort)/d.torrent")!),
                                         options: AddOptions(savePath: downloads, peers: [seedPeer]))

        for (id, name) in [(byMagnet, "a.bin"), (byFile, "b.bin"), (byHash, "c.bin"), (byURL, "d.bin")] {
            let done = try await SessionHarness.wait(getter, id, until: .seeding)
            #expect(done.progress == 1)
            #expect(done.name == name)
            #expect(SessionHarness.bytes(downloads + "/" + name) == SessionHarness.bytes(work.file(name)))
        }
        #expect(await getter.list().map(\.id) == [byMagnet, byFile, byHash, byURL])

        // The same torrent again is refused with its id.
        await #expect(throws: DuplicateTorrentError.self) {
            _ = try await getter.add(.torrentFile(torrentB.bytes), options: AddOptions(savePath: downloads))
        }
        // A URL that is not there: a clear error, nothing added.
        let missing = await #expect(throws: SessionError.self) {
            _ = try await getter.add(.url(URL(string: "http://127.0.0.1:\(httpPort)/none.torrent")!))
        }
        #expect(missing?.description.contains("HTTP 404") == true)
        #expect(await getter.list().count == 4)
        // Text from a remote client is never read as a local path.
        #expect(throws: SessionError.self) { _ = try TorrentSource(parsing: work.file("a.bin")) }

        await getter.shutdown()
        await seed.shutdown()
    }

    @Test func torrentDownloadsAreBounded() async throws {
        let work = try TemporaryDirectory("bf-session-url")
        try Data(repeating: 0x61, count: 5_000).write(to: URL(fileURLWithPath: work.file("big.torrent")))
        let server = try LocalHTTPServer(directory: work.path)
        defer { server.stop() }
        let port = try await server.port()
        let error = await #expect(throws: SessionError.self) {
            _ = try await TorrentDownloader.fetch(URL(string: "http://127.0.0.1:\(port)/big.torrent")!, limit: 1_000)
        }
        #expect(error?.description.contains("too large") == true || error?.description.contains("larger than") == true)
    }

    @Test func removeClosesTheTorrentAndDeletesDataOnlyWhenAsked() async throws {
        let work = try TemporaryDirectory("bf-session-remove")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["keep.bin": 200_000, "gone.bin": 200_000],
                                                               state: work.file("seed-state"))
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let events = EventRecorder(getter)
        let downloads = work.file("downloads")
        let options = AddOptions(savePath: downloads, peers: [SessionHarness.peer(seed)])
        let keep = try await getter.add(.infoHash(published["keep.bin"]!.infoHash), options: options)
        let gone = try await getter.add(.infoHash(published["gone.bin"]!.infoHash), options: options)
        try await SessionHarness.wait(getter, keep, until: .seeding)
        try await SessionHarness.wait(getter, gone, until: .seeding)

        try await getter.remove(keep, deleteData: false)
        try await getter.remove(gone, deleteData: true)
        #expect(FileManager.default.fileExists(atPath: downloads + "/keep.bin"))
        #expect(!FileManager.default.fileExists(atPath: downloads + "/gone.bin"))
        #expect(await getter.list().isEmpty)
        #expect(await getter.swarm.openSession(published["keep.bin"]!.infoHash) == nil)
        #expect(!FileManager.default.fileExists(atPath: work.file("get-state") + "/resume/\(published["keep.bin"]!.infoHash.hex).resume"))
        // Every connection of both is closed.
        let swarm = getter.swarm
        #expect(try await Waiting.pollAsync(timeout: 10) {
            try await swarm.loop.submit { swarm.connectionCount }.get() == 0 ? true : nil
        } == true)
        await #expect(throws: SessionError.self) { try await getter.pause(keep) }
        #expect(try await events.wait { if case .removed(gone, _, true) = $0 { return true } else { return false } })
        #expect(try await events.wait { if case .removed(keep, _, false) = $0 { return true } else { return false } })
        await getter.shutdown()
        await seed.shutdown()
    }

    @Test func pauseStopsEverythingAndResumeCarriesOn() async throws {
        let work = try TemporaryDirectory("bf-session-pause")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["p.bin": 400_000], state: work.file("seed-state"))
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let options = AddOptions(savePath: work.file("downloads"), paused: true, peers: [SessionHarness.peer(seed)])
        let id = try await getter.add(.infoHash(published["p.bin"]!.infoHash), options: options)
        var snapshot = try await getter.snapshot(id)
        #expect(snapshot.state == .paused)
        // Paused from the start: nothing dialled, nothing fetched.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await getter.peers(id).isEmpty)
        #expect(try await seed.peers(published["p.bin"]!.id).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: work.file("downloads/p.bin")))

        try await getter.resume(id)
        snapshot = try await SessionHarness.wait(getter, id, until: .seeding)
        #expect(snapshot.bytesHave == 400_000)

        try await getter.pause(id)
        snapshot = try await getter.snapshot(id)
        #expect(snapshot.state == .paused)
        #expect(snapshot.peersConnected == 0)
        #expect(snapshot.bytesHave == 400_000)
        #expect(snapshot.downloadedEver >= 400_000)
        #expect(await getter.swarm.openSession(snapshot.infoHash) == nil)
        try await getter.resume(id)
        snapshot = try await SessionHarness.wait(getter, id, until: .seeding)
        #expect(snapshot.downloadedEver >= 400_000)
        await getter.shutdown()
        await seed.shutdown()
    }

    @Test func recheckFindsACorruptedPieceAndTheSwarmRepairsIt() async throws {
        let work = try TemporaryDirectory("bf-session-recheck")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["r.bin": 600_000], state: work.file("seed-state"))
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let downloads = work.file("downloads")
        let id = try await getter.add(.infoHash(published["r.bin"]!.infoHash),
                                      options: AddOptions(savePath: downloads, peers: [SessionHarness.peer(seed)]))
        let complete = try await SessionHarness.wait(getter, id, until: .seeding)
        try await getter.pause(id)
        // The seed stops too, so the recheck's short run cannot fetch the piece back.
        try await seed.pause(published["r.bin"]!.id)
        // Flip one byte in piece 1 (keeping the file's size; the mtime changes).
        let handle = try #require(FileHandle(forUpdatingAtPath: downloads + "/r.bin"))
        let pieceLength = Int64(try TorrentBuilder(path: work.file("r.bin"), nodes: [], creationDate: nil).build().torrent.info.pieceLength)
        try handle.seek(toOffset: UInt64(pieceLength + 10))
        let original = try #require(try handle.read(upToCount: 1))
        try handle.seek(toOffset: UInt64(pieceLength + 10))
        try handle.write(contentsOf: Data([original[0] ^ 0xFF]))
        try handle.close()

        try await getter.recheck(id)
        #expect(try await getter.snapshot(id).state == .paused)
        let have = try #require(await getter.pieces(id))
        #expect(have.setCount == complete.pieceCount - 1)
        #expect(!have[1])
        try await seed.resume(published["r.bin"]!.id)
        try await getter.resume(id)
        try await SessionHarness.wait(getter, id, until: .seeding)
        #expect(SessionHarness.bytes(downloads + "/r.bin") == SessionHarness.bytes(work.file("r.bin")))
        await getter.shutdown()
        await seed.shutdown()
    }

    @Test func moveStorageMovesTheFilesAndCarriesOnFromThere() async throws {
        let work = try TemporaryDirectory("bf-session-move")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["m.bin": 300_000], state: work.file("seed-state"))
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let id = try await getter.add(.infoHash(published["m.bin"]!.infoHash),
                                      options: AddOptions(savePath: work.file("first"), peers: [SessionHarness.peer(seed)]))
        try await SessionHarness.wait(getter, id, until: .seeding)
        try await getter.moveStorage(id, to: work.file("second"))
        #expect(!FileManager.default.fileExists(atPath: work.file("first/m.bin")))
        #expect(SessionHarness.bytes(work.file("second/m.bin")) == SessionHarness.bytes(work.file("m.bin")))
        let moved = try await SessionHarness.wait(getter, id, until: .seeding)
        #expect(moved.savePath == work.file("second"))
        #expect(moved.bytesHave == 300_000)
        await getter.shutdown()
        await seed.shutdown()
    }

    @Test func eventsArriveInOrder() async throws {
        let work = try TemporaryDirectory("bf-session-events")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["e.bin": 250_000], state: work.file("seed-state"))
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let events = EventRecorder(getter)
        let id = try await getter.add(.infoHash(published["e.bin"]!.infoHash),
                                      options: AddOptions(savePath: work.file("downloads"), peers: [SessionHarness.peer(seed)]))
        #expect(try await events.wait { if case .completed(id) = $0 { return true } else { return false } })
        try await getter.remove(id)
        #expect(try await events.wait { if case .removed(id, _, _) = $0 { return true } else { return false } })

        var kinds: [String] = []
        var states: [(TorrentState, TorrentState)] = []
        for event in events.events {
            switch event {
            case .listening: kinds.append("listening")
            case .added(id, _, _): kinds.append("added")
            case .metadataReceived(id, let name, let size, _):
                kinds.append("metadata")
                #expect(name == "e.bin" && size == 250_000)
            case .completed(id): kinds.append("completed")
            case .removed(id, _, _): kinds.append("removed")
            case .stateChanged(id, let from, let to): states.append((from, to))
            default: break
            }
        }
        #expect(kinds == ["listening", "added", "metadata", "completed", "removed"])
        // Each change starts where the last one ended, and the download ends as a seed.
        for (previous, next) in zip(states, states.dropFirst()) { #expect(previous.1 == next.0) }
        #expect(states.first?.0 == .checking)
        #expect(states.contains { $0.1 == .downloadingMetadata })
        #expect(states.last?.1 == .seeding)
        await getter.shutdown()
        await seed.shutdown()
    }

    /// `list` keeps the numbers of a torrent at rest rather than recounting it every time
    /// (`SwarmNode.changedStats`); once a peer stirs it, the list alone shows what it did.
    @Test func aListRecountsATorrentAtRestOnceItStirs() async throws {
        let work = try TemporaryDirectory("bf-session-rest")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["r.bin": 300_000], state: work.file("seed-state"))
        let id = try #require(published["r.bin"]).id
        for _ in 0..<2 {  // the second read is of the kept numbers
            let idle = try #require(await seed.list().first { $0.id == id })
            #expect(idle.state == .seeding && idle.uploadedEver == 0 && idle.peersConnected == 0 && idle.progress == 1)
        }
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let got = try await getter.add(.infoHash(published["r.bin"]!.infoHash),
                                       options: AddOptions(savePath: work.file("downloads"), peers: [SessionHarness.peer(seed)]))
        try await SessionHarness.wait(getter, got, until: .seeding)
        let served = try await Waiting.pollAsync(timeout: 30, every: .milliseconds(100)) { () async -> TorrentSnapshot? in
            let now = await seed.list().first { $0.id == id }
            return (now?.uploadedEver ?? 0) > 0 ? now : nil
        }
        #expect(served != nil, "the seed's list never showed the upload")
        await getter.shutdown()
        // At rest again, with what it served counted.
        let after = try await Waiting.pollAsync(timeout: 30, every: .milliseconds(100)) { () async -> TorrentSnapshot? in
            let now = await seed.list().first { $0.id == id }
            return now?.peersConnected == 0 ? now : nil
        }
        #expect((after?.uploadedEver ?? 0) >= (served?.uploadedEver ?? 1))
        #expect(await seed.list().first { $0.id == id }?.uploadedEver == after?.uploadedEver)
        await seed.shutdown()
    }
}
