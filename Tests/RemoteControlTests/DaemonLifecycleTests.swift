import Foundation
import Testing
import TestSupport

/// `bitfountain daemon` stopped and started again as a process: SIGTERM is a
/// graceful stop, and a restart (after SIGTERM or `kill -9`) with the same
/// --state-dir brings back every torrent as it was.
@Suite(.serialized) struct DaemonLifecycleTests {
    @Test(.timeLimit(.minutes(3)))
    func aStoredDefaultSavePathOutsideTheNewRootsGivesWayToDownloadDir() async throws {
        let work = try TemporaryDirectory("bf-life-root")
        let first = try await DaemonProcess(work: work)
        // Set over the API (transmission-remote -w): kept in --state-dir, and it wins at the next start...
        #expect(try await first.remote(["-w", first.downloadDir + "/tv"]).stdout.contains("success"))
        first.process.signal(SIGTERM)
        _ = await first.process.wait(timeout: 30)
        let same = try await DaemonProcess(work: work)
        #expect(try await same.remote(["-si"]).stdout.contains("Download directory: \(same.downloadDir)/tv"))
        same.process.signal(SIGTERM)
        _ = await same.process.wait(timeout: 30)
        // ...unless it lies outside this start's download roots: then --download-dir is the default.
        let moved = try await DaemonProcess(work: work, downloads: "elsewhere")
        defer { moved.process.signal(SIGKILL) }
        let info = try await moved.remote(["-si"]).stdout
        #expect(info.contains("Download directory: \(moved.downloadDir)\n"), "\(info)")
        #expect(moved.process.stderr.contains("outside the download roots"), "\(moved.process.stderr)")
    }

    @Test(.timeLimit(.minutes(3)))
    func sigtermSavesTheStateExitsZeroAndReleasesThePorts() async throws {
        let work = try TemporaryDirectory("bf-life")
        let torrent = try await Payload.torrent(in: work, name: "kept.bin", size: 100_000)
        let daemon = try await DaemonProcess(work: work)
        defer { daemon.process.signal(SIGKILL) }
        #expect(try await daemon.remote(["-a", torrent]).stdout.contains("success"))
        let before = try await daemon.waitForTorrents(timeout: 30, "the added torrent") { $0.count == 1 }

        daemon.process.signal(SIGTERM)
        let exit = await daemon.process.wait(timeout: 30)
        #expect(!exit.timedOut, "still running 30 s after SIGTERM")
        #expect(exit.status == 0, "exit status \(exit.status); stderr: \(exit.stderr.suffix(1500))")
        #expect(exit.stderr.contains("session stopped; state saved"), "\(exit.stderr.suffix(1500))")
        let record = daemon.stateDir + "/session/torrents/\(before[0].hash).json"
        #expect(FileManager.default.fileExists(atPath: record), "no torrent record at \(record)")

        // Both ports are free again: a new daemon listens on the very same ones.
        let again = try await DaemonProcess(work: work, rpcPort: daemon.rpcPort, peerPort: daemon.peerPort)
        defer { again.process.signal(SIGKILL) }
        #expect(again.rpcPort == daemon.rpcPort && again.peerPort == daemon.peerPort)
        let after = try await again.waitForTorrents(timeout: 30, "the torrent after the restart") { $0.count == 1 }
        #expect(after.map(\.id) == before.map(\.id) && after.map(\.hash) == before.map(\.hash))
    }

    @Test(.timeLimit(.minutes(5)))
    func afterSIGTERMEveryTorrentComesBackAndThePartialOneCompletes() async throws {
        try await restartKeepsEveryTorrent(stoppedBy: SIGTERM)
    }

    @Test(.timeLimit(.minutes(5)))
    func afterKill9EveryTorrentComesBackAndThePartialOneCompletes() async throws {
        try await restartKeepsEveryTorrent(stoppedBy: SIGKILL)
    }

    /// Three torrents: one seeding (its data already in the download dir), one
    /// stopped, and one half downloaded from a seed process that is then
    /// killed. The daemon is stopped with `signal` and started again on the
    /// same state: the same ids and hashes, the stopped one still stopped, the
    /// seeding one seeding, the partial one with at least the bytes it had
    /// verified — and it completes once its seed is back (on the port its
    /// magnet link names, which the torrent's record kept).
    private func restartKeepsEveryTorrent(stoppedBy signal: Int32) async throws {
        let work = try TemporaryDirectory("bf-life")
        let downloads = work.file("downloads")
        try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: true)
        // Seeding: the payload is where the daemon saves to, so checking finds it whole.
        let seeded = try await Payload.torrent(in: work, name: "seeded.bin", size: 300_000, contentIn: downloads)
        let stopped = try await Payload.torrent(in: work, name: "stopped.bin", size: 200_000)
        // Partial: 16 MiB from a seed capped at 256 KiB/s (a minute for all of it).
        try Payload.write(work.file("partial.bin"), size: 16 << 20, salt: 3)
        let seedArguments = ["seed", work.file("partial.bin"), "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--no-port-mapping",
                             "--json", "--state-dir", work.file("seed-state")]
        var seed = try ChildProcess(Paths.binary, seedArguments + ["--port", "0", "--upload-limit", "256K"])
        defer { seed.signal(SIGKILL) }
        let seedLine = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        let seedPort = try #require(JSONLines.event("listening", in: seed.stdout)?["port"] as? Int)
        let magnet = try #require(JSONLines.event("seeding", in: seedLine)?["magnet"] as? String)

        let daemon = try await DaemonProcess(work: work)
        defer { daemon.process.signal(SIGKILL) }
        #expect(try await daemon.remote(["-a", seeded]).stdout.contains("success"))
        #expect(try await daemon.remote(["-a", stopped]).stdout.contains("success"))
        #expect(try await daemon.remote(["-a", magnet + "&x.pe=127.0.0.1:\(seedPort)"]).stdout.contains("success"))
        var listed = try await daemon.waitForTorrents(timeout: 30, "three torrents") { $0.count == 3 }
        let stoppedID = try #require(listed.first { $0.name == "stopped.bin" }?.id)
        #expect(try await daemon.remote(["-t", "\(stoppedID)", "-S"]).stdout.contains("success"))

        // Some verified pieces of the partial one, then its seed goes away.
        _ = try await daemon.waitForTorrents(timeout: 120, "seeding, stopped, and part of partial.bin") { list in
            list.contains { $0.name == "seeded.bin" && $0.percentDone == 1 && $0.status == 6 }
                && list.contains { $0.id == stoppedID && $0.isStopped }
                && list.contains { $0.name == "partial.bin" && $0.haveValid > 0 }
        }
        seed.signal(SIGKILL)
        _ = await seed.wait(timeout: 10)
        listed = try await daemon.torrents()
        let partial = try #require(listed.first { $0.name == "partial.bin" })
        #expect(partial.percentDone < 1, "partial.bin completed before its seed was stopped: \(partial)")

        daemon.process.signal(signal)
        let exit = await daemon.process.wait(timeout: 30)
        if signal == SIGTERM { #expect(exit.status == 0 && !exit.timedOut, "\(exit.stderr.suffix(1500))") }

        let restarted = try await DaemonProcess(work: work)
        defer { restarted.process.signal(SIGKILL) }
        let back = try await restarted.waitForTorrents(timeout: 60, "every torrent back, checked") { list in
            list.count == 3 && !list.contains(where: \.isChecking)
                && list.contains { $0.name == "seeded.bin" && $0.status == 6 }
                && list.contains { $0.name == "partial.bin" && $0.haveValid >= partial.haveValid }
        }
        #expect(back.map(\.id) == listed.map(\.id), "ids: \(back) vs \(listed)")
        #expect(back.map(\.hash) == listed.map(\.hash), "hashes: \(back) vs \(listed)")
        #expect(back.first { $0.id == stoppedID }?.isStopped == true, "the stopped torrent was started: \(back)")

        // The seed comes back (unthrottled) where the magnet link said it was; the download resumes and completes.
        seed = try ChildProcess(Paths.binary, seedArguments + ["--port", "\(seedPort)"])
        _ = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        _ = try await restarted.waitForTorrents(timeout: 180, "partial.bin complete") { list in
            list.contains { $0.name == "partial.bin" && $0.percentDone == 1 }
        }
        #expect(FileManager.default.contents(atPath: downloads + "/partial.bin") == FileManager.default.contents(atPath: work.file("partial.bin")))
    }
}

/// Deterministic payloads and their .torrent files for the daemon tests.
enum Payload {
    static func write(_ path: String, size: Int, salt: Int) throws {
        var bytes = [UInt8](repeating: 0, count: size)
        var state = UInt64(0x9E37_79B9_7F4A_7C15) &+ UInt64(salt)
        for index in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Writes `name` (in `contentIn`, default `work`) and its .torrent in `work`; returns the .torrent's path.
    static func torrent(in work: TemporaryDirectory, name: String, size: Int, contentIn: String? = nil) async throws -> String {
        let content = (contentIn ?? work.path) + "/" + name
        try write(content, size: size, salt: name.count)
        let torrent = work.file(name + ".torrent")
        let created = try await ChildProcess.bitfountain(["create", content, "-o", torrent])
        guard created.succeeded else { throw HarnessFailure(description: "create \(name): \(created.stderr)") }
        return torrent
    }
}
