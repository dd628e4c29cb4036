@testable import BitFountain
import Crypto
import Foundation
import Metainfo
import Testing
import TestSupport

/// File priorities end to end on 127.0.0.1: a multi-file torrent with one
/// file skipped downloads the rest and stops; un-skipping it fetches it, and
/// its finishing is a second `.completed` event.
@Suite(.serialized) struct SessionFilePriorityTests {
    private func sha256(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array(SHA256.hash(data: $0)) }
    }

    @Test func aSkippedFileIsNotDownloadedUntilItIsUnskipped() async throws {
        let work = try TemporaryDirectory("bf-session-skip")
        let album = work.file("album")
        try FileManager.default.createDirectory(atPath: album, withIntermediateDirectories: true)
        // File sizes are multiples of any piece length up to 1 MiB, so the
        // skipped file shares no piece with the others and gets no byte.
        let sizes = ["a.bin": 1 << 20, "b.bin": 2 << 20, "c.bin": (1 << 20) + 12_345]
        for (name, size) in sizes { try Swarm.writeRandomFile(album + "/" + name, size: size) }
        let total = Int64(sizes.values.reduce(0, +))

        let seed = try await Session.start(SessionHarness.configuration(state: work.file("seed-state")))
        _ = try await seed.add(.publish(path: album))
        let torrent = try TorrentBuilder(path: album, nodes: [], creationDate: nil).build()
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let events = EventRecorder(getter)
        let downloads = work.file("downloads")
        let id = try await getter.add(.torrentFile(torrent.bytes),
                                      options: AddOptions(savePath: downloads, paused: true, peers: [SessionHarness.peer(seed)]))
        let skipped = try #require(try await getter.files(id).first { $0.path == "b.bin" })
        try await getter.setFilePriority(id, fileIndex: skipped.index, .skip)
        try await getter.resume(id)

        var snapshot = try await SessionHarness.wait(getter, id, until: .seeding)
        #expect(snapshot.progress == 1)
        #expect(snapshot.bytesWanted == total - Int64(sizes["b.bin"]!))
        #expect(snapshot.bytesWantedHave == snapshot.bytesWanted)
        #expect(snapshot.downloadedEver < total, "downloaded \(snapshot.downloadedEver) of \(total)")
        #expect(snapshot.downloadedEver <= snapshot.bytesWanted + (256 << 10), "little beyond the wanted bytes")
        for name in ["a.bin", "c.bin"] {
            #expect(sha256(downloads + "/album/" + name) == sha256(album + "/" + name), "\(name) differs")
        }
        #expect(!FileManager.default.fileExists(atPath: downloads + "/album/b.bin"), "a skipped file with no wanted byte is not created")
        #expect(try await getter.files(id).first { $0.path == "b.bin" }?.bytesHave == 0)
        func completions() -> Int { events.events.count { if case .completed(id) = $0 { true } else { false } } }
        #expect(try await Waiting.poll(timeout: 30) { completions() >= 1 ? completions() : nil } == 1)

        // Un-skip: it downloads the rest (redialling the seed it had dropped).
        try await getter.setFilePriority(id, fileIndex: skipped.index, .normal)
        snapshot = try await getter.snapshot(id)
        #expect(snapshot.bytesWanted == total, "every file is wanted again")
        // Done counts all of it now: below 1 unless b.bin has already arrived, which on
        // loopback it can between the un-skip and this read when the machine is busy.
        #expect(snapshot.progress < 1 || snapshot.bytesHave == total, "progress \(snapshot.progress) with \(snapshot.bytesHave) of \(total)")
        let done = try await Waiting.pollAsync(timeout: 60, every: .milliseconds(100)) { () async throws -> TorrentSnapshot? in
            let now = try await getter.snapshot(id)
            return now.state == .seeding && now.bytesHave == total ? now : nil
        }
        #expect(done?.progress == 1)
        #expect(sha256(downloads + "/album/b.bin") == sha256(album + "/b.bin"))
        // Done again: told again, once.
        #expect(try await Waiting.poll(timeout: 30) { completions() >= 2 ? completions() : nil } == 2)
        await getter.shutdown()
        await seed.shutdown()
    }
}
