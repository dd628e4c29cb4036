import Foundation
import RemoteControl
import Testing
import TestSupport

/// `bitfountain daemon --watch DIR` as a process: what a user drops into the folder.
@Suite struct DaemonWatchFolderTests {
    /// Moves `data` into `folder` in one step (as a finished download lands), so the daemon sees it whole.
    private static func drop(_ data: Data, as name: String, into folder: String, via work: TemporaryDirectory) throws {
        let staging = work.file("staging-" + name)
        try data.write(to: URL(fileURLWithPath: staging))
        try FileManager.default.moveItem(atPath: staging, toPath: folder + "/" + name)
    }

    private static func waitForFile(_ path: String, timeout: Double = 60) async throws -> Bool {
        try await Waiting.poll(timeout: timeout) { FileManager.default.fileExists(atPath: path) ? true : nil } ?? false
    }

    @Test(.timeLimit(.minutes(3)))
    func droppedTorrentAndMagnetAreAddedAndAMalformedFileIsSetAside() async throws {
        let work = try TemporaryDirectory("bf-watch")
        let watch = work.file("watch")
        let torrent = try await Payload.torrent(in: work, name: "dropped.bin", size: 50_000)
        let daemon = try await DaemonProcess(work: work, extra: ["--watch", watch])
        defer { daemon.process.signal(SIGKILL) }
        // The daemon creates the folder when it starts watching.
        #expect(try await Waiting.poll(timeout: 30) { FileManager.default.fileExists(atPath: watch) ? true : nil } == true)

        let magnetHash = String(repeating: "5a", count: 20)
        try Self.drop(try Data(contentsOf: URL(fileURLWithPath: torrent)), as: "one.torrent", into: watch, via: work)
        try Self.drop(Data("magnet:?xt=urn:btih:\(magnetHash)&dn=from-a-magnet\n".utf8), as: "two.magnet", into: watch, via: work)
        try Self.drop(Data("d4:infoi42ee".utf8), as: "broken.torrent", into: watch, via: work)

        #expect(try await Self.waitForFile(watch + "/one.torrent.added"), "one.torrent was not renamed .added")
        #expect(try await Self.waitForFile(watch + "/two.magnet.added"), "two.magnet was not renamed .added")
        #expect(try await Self.waitForFile(watch + "/broken.torrent.invalid"), "broken.torrent was not renamed .invalid")
        for name in ["one.torrent", "two.magnet", "broken.torrent"] {
            #expect(!FileManager.default.fileExists(atPath: watch + "/" + name), "\(name) is still waiting")
        }

        // Both are in the session (seen over RPC), the broken one is not; the daemon runs on.
        let torrents = try await daemon.waitForTorrents(timeout: 30, "the two dropped torrents") { $0.count == 2 }
        #expect(torrents.contains { $0.name == "dropped.bin" }, "\(torrents)")
        #expect(torrents.contains { $0.hash == magnetHash }, "\(torrents)")
        #expect(daemon.process.isRunning)
        // The reason is in the log, naming the file.
        let logged = try await Waiting.poll(timeout: 10) { () -> String? in
            daemon.process.stderr.split(separator: "\n").first { $0.contains("watched file not added") && $0.contains("broken.torrent") }
                .map(String.init)
        }
        #expect(logged != nil, "no warning about broken.torrent in: \(daemon.process.stderr.suffix(2000))")

        // A file already added, dropped again, is not a second torrent.
        try Self.drop(try Data(contentsOf: URL(fileURLWithPath: torrent)), as: "again.torrent", into: watch, via: work)
        #expect(try await Self.waitForFile(watch + "/again.torrent.added"))
        #expect(try await daemon.torrents().count == 2)
    }

    /// A .torrent written slowly (in chunks over several scan intervals, by a
    /// process of its own) is read only once complete: read half-way it would
    /// fail to parse and be set aside as `.invalid`.
    @Test(.timeLimit(.minutes(3)))
    func aFileStillBeingWrittenIsNotReadHalfWay() async throws {
        let work = try TemporaryDirectory("bf-watch")
        let watch = work.file("watch")
        let torrent = try await Payload.torrent(in: work, name: "slow.bin", size: 50_000)
        let daemon = try await DaemonProcess(work: work, extra: ["--watch", watch])
        defer { daemon.process.signal(SIGKILL) }
        #expect(try await Waiting.poll(timeout: 30) { FileManager.default.fileExists(atPath: watch) ? true : nil } == true)

        // 24 chunks, a quarter of a second apart: about 6 s, three of the daemon's 2 s scans.
        let size = try #require(FileManager.default.attributesOfItem(atPath: torrent)[.size] as? Int)
        let chunk = (size + 23) / 24
        let writer = try ChildProcess("/bin/sh", ["-c", """
            i=0; while [ $((i * \(chunk))) -lt \(size) ]; do
              dd if="$1" bs=\(chunk) skip=$i count=1 status=none >> "$2"; i=$((i + 1)); sleep 0.25
            done
            """, "writer", torrent, watch + "/slow.torrent"])
        let written = await writer.wait(timeout: 60)
        #expect(written.succeeded, "\(written.stderr)")
        #expect(try await Self.waitForFile(watch + "/slow.torrent.added"), "slow.torrent was not added")
        #expect(FileManager.default.contents(atPath: watch + "/slow.torrent.added") == FileManager.default.contents(atPath: torrent),
                "the writer did not write the whole torrent")
        #expect(!FileManager.default.fileExists(atPath: watch + "/slow.torrent.invalid"), "read half-way: \(daemon.process.stderr.suffix(1500))")
        let torrents = try await daemon.waitForTorrents(timeout: 30, "the slowly written torrent") { $0.count == 1 }
        #expect(torrents.first?.name == "slow.bin")
    }
}

/// The settling rule on its own: a file is taken once two scans in a row saw it unchanged.
@Suite struct WatchFolderSettlingTests {
    @Test func aFileIsTakenOnlyAfterItHeldStillForOneScan() {
        var settling = WatchFolderSettling()
        let first = WatchFolderSettling.Sighting(size: 100, modified: 1)
        #expect(settling.settled(["a.torrent": first]).isEmpty, "new: wait one scan")
        #expect(settling.settled(["a.torrent": .init(size: 200, modified: 2)]).isEmpty, "grew: wait again")
        #expect(settling.settled(["a.torrent": .init(size: 200, modified: 3)]).isEmpty, "touched: wait again")
        #expect(settling.settled(["a.torrent": .init(size: 200, modified: 3), "b.magnet": first]) == ["a.torrent"])
        settling.forget("a.torrent")
        // Handled and forgotten: a new file under the same name starts over.
        #expect(settling.settled(["a.torrent": .init(size: 200, modified: 3), "b.magnet": first]) == ["b.magnet"])
        // A file that went away is forgotten too.
        #expect(settling.settled([:]).isEmpty)
        #expect(settling.settled(["b.magnet": first]).isEmpty)
    }
}
