import Foundation
import Testing
import TestSupport

/// `bitfountain seed` and `bitfountain get` as users run them, on 127.0.0.1.
@Suite(.serialized) struct SwarmEndToEndTests {
    @Test func getByMagnetLinkFromASeed() async throws {
        let work = try TemporaryDirectory("bf-swarm")
        let content = try Swarm.writeRandomFile(work.file("talk.bin"), size: 3_000_000)
        let seed = try await Swarm.startSeed([work.file("talk.bin")], state: work.file("seed-state"))
        #expect(seed.magnets.first?.contains("x.pe=127.0.0.1:\(seed.port)") == true, "a --bind address goes into x.pe")

        let result = try await Swarm.get(seed.magnets[0], output: work.file("out"), state: work.file("get-state"))
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/talk.bin")) == content)
        let events = JSONLines.objects(result.stdout)
        #expect(events.first?["event"] as? String == "listening", "the first JSON line says where we listen")
        #expect(events.first?["port"] as? Int ?? 0 > 0)
        #expect(events.contains { $0["event"] as? String == "metadata" })
        let complete = try #require(events.last)
        #expect(complete["event"] as? String == "complete")
        #expect(complete["bytes"] as? Int == 3_000_000)
        #expect(complete["peers"] as? Int == 1)
        #expect((complete["rate"] as? Double ?? 0) > 0)
        seed.process.signal(SIGTERM)
        let stopped = await seed.process.wait(timeout: 20)
        #expect(stopped.status == 0, "seed stops cleanly on SIGTERM")
    }

    @Test func oneSeedServesSeveralTorrentsAndGetSeedsAfter() async throws {
        let work = try TemporaryDirectory("bf-swarm")
        let single = try Swarm.writeRandomFile(work.file("single.bin"), size: 700_000)
        try FileManager.default.createDirectory(atPath: work.file("album/disc"), withIntermediateDirectories: true)
        let trackA = try Swarm.writeRandomFile(work.file("album/disc/a.bin"), size: 400_000)
        let trackB = try Swarm.writeRandomFile(work.file("album/b.bin"), size: 300_001)
        let created = try await ChildProcess.bitfountain(["create", work.file("album"), "--node", "127.0.0.1:9"])
        #expect(created.succeeded, "\(created.stderr)")
        let seed = try await Swarm.startSeed([work.file("single.bin"), work.file("album.torrent")], state: work.file("seed-state"))
        #expect(seed.magnets.count == 2)

        // The .torrent with --peer; --seed-after keeps this downloader serving.
        let first = try ChildProcess(Paths.binary, Swarm.getArguments(work.file("album.torrent"), output: work.file("out1"),
                                     state: work.file("state1"), peers: ["127.0.0.1:\(seed.port)"], extra: ["--seed-after"]))
        let done = try await first.waitForLine(timeout: 60) { $0.contains("\"complete\"") }
        #expect(JSONLines.event("complete", in: done)?["pieces"] as? Int ?? 0 > 0)
        #expect(FileManager.default.contents(atPath: work.file("out1/album/disc/a.bin")) == trackA)
        #expect(FileManager.default.contents(atPath: work.file("out1/album/b.bin")) == trackB)
        let firstPort = JSONLines.event("listening", in: first.stdout)?["port"] as? Int ?? 0

        // A second downloader gets the album from the first one only (the seed is gone).
        seed.process.signal(SIGTERM)
        _ = await seed.process.wait(timeout: 20)
        let second = try await Swarm.get(work.file("album.torrent"), output: work.file("out2"), state: work.file("state2"),
                                         peers: ["127.0.0.1:\(firstPort)"])
        #expect(second.succeeded, "\(second.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out2/album/b.bin")) == trackB)
        first.signal(SIGINT)
        #expect(await first.wait(timeout: 20).status == 0)

        // The single file, by the other magnet, from a fresh seed process.
        let again = try await Swarm.startSeed([work.file("single.bin")], state: work.file("seed-state"))
        let third = try await Swarm.get(again.magnets[0], output: work.file("out3"), state: work.file("state3"))
        #expect(third.succeeded, "\(third.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out3/single.bin")) == single)
    }

    @Test func killedDownloadResumesWithoutStartingOver() async throws {
        let work = try TemporaryDirectory("bf-swarm")
        let size = 12_000_000
        let content = try Swarm.writeRandomFile(work.file("big.bin"), size: size)
        // A slow seed, so the download can be killed in the middle.
        let seed = try await Swarm.startSeed([work.file("big.bin")], state: work.file("seed-state"), extra: ["--upload-limit", "3M"])
        let getter = try ChildProcess(Paths.binary, Swarm.getArguments(seed.magnets[0], output: work.file("out"), state: work.file("state")))
        _ = try await getter.waitForLine(timeout: 60) { line in
            (JSONLines.event("progress", in: line)?["percent"] as? Double ?? 0) >= 30
        }
        getter.signal(SIGKILL)
        _ = await getter.wait(timeout: 10)

        let resumed = try await Swarm.get(seed.magnets[0], output: work.file("out"), state: work.file("state"))
        #expect(resumed.succeeded, "\(resumed.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/big.bin")) == content)
        let complete = try #require(JSONLines.event("complete", in: resumed.stdout))
        let downloaded = complete["downloaded"] as? Int ?? size
        #expect(downloaded <= size * 75 / 100, "the pieces verified before the kill were kept (downloaded \(downloaded))")
        #expect(JSONLines.event("metadata", in: resumed.stdout) == nil, "the metadata came from the state directory")
    }

    @Test func downloadersTradePiecesWithEachOther() async throws {
        let work = try TemporaryDirectory("bf-swarm")
        let content = try Swarm.writeRandomFile(work.file("shared.bin"), size: 6_000_000)
        // A slow seed: the downloaders get different pieces from it and swap them.
        let seed = try await Swarm.startSeed([work.file("shared.bin")], state: work.file("seed-state"), extra: ["--upload-limit", "2M"])
        let first = try ChildProcess(Paths.binary, Swarm.getArguments(seed.magnets[0], output: work.file("a"), state: work.file("state-a"),
                                                                      extra: ["--seed-after"]))
        defer { first.signal(SIGKILL) }
        let listening = try await first.waitForLine(timeout: 30) { $0.contains("\"listening\"") }
        let firstPort = JSONLines.event("listening", in: listening)?["port"] as? Int ?? 0
        let second = try await Swarm.get(seed.magnets[0], output: work.file("b"), state: work.file("state-b"),
                                         peers: ["127.0.0.1:\(firstPort)"])
        #expect(second.succeeded, "\(second.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("b/shared.bin")) == content)
        #expect(JSONLines.event("complete", in: second.stdout)?["peers"] as? Int == 2, "blocks came from the seed and the other downloader")
        _ = try await first.waitForLine(timeout: 60) { $0.contains("\"complete\"") }
        #expect(FileManager.default.contents(atPath: work.file("a/shared.bin")) == content)
    }

    @Test func worksOverIPv6Loopback() async throws {
        let work = try TemporaryDirectory("bf-swarm")
        let content = try Swarm.writeRandomFile(work.file("six.bin"), size: 400_000)
        let seed = try await Swarm.startSeed([work.file("six.bin")], state: work.file("seed-state"), bind: "::1")
        #expect(seed.magnets[0].contains("x.pe=[::1]:"))
        let result = try await ChildProcess.run(Paths.binary, Swarm.getArguments(seed.magnets[0], output: work.file("out"),
                                                                                 state: work.file("state"), bind: "::1"), timeout: 90)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/six.bin")) == content)
    }

    @Test func uploadLimitBoundsTheSeedsRate() async throws {
        let work = try TemporaryDirectory("bf-swarm")
        try Swarm.writeRandomFile(work.file("limited.bin"), size: 3_000_000)
        let seed = try await Swarm.startSeed([work.file("limited.bin")], state: work.file("seed-state"), extra: ["--upload-limit", "1M"])
        let started = Date()
        let result = try await Swarm.get(seed.magnets[0], output: work.file("out"), state: work.file("state"))
        let seconds = Date().timeIntervalSince(started)
        #expect(result.succeeded, "\(result.stderr)")
        // 3 MB at 1 MiB/s: at least ~2.8 s (minus one small initial burst).
        #expect(seconds >= 2.5, "took \(seconds) s")
    }

    @Test func unwritableOutputIsAClearError() async throws {
        let work = try TemporaryDirectory("bf-swarm")
        try Swarm.writeRandomFile(work.file("x.bin"), size: 100_000)
        let created = try await ChildProcess.bitfountain(["create", work.file("x.bin"), "--node", "127.0.0.1:9"])
        #expect(created.succeeded)
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: work.file("blocker")))
        let result = try await Swarm.get(work.file("x.bin.torrent"), output: work.file("blocker/sub"), state: work.file("state"))
        #expect(result.status != 0)
        #expect(result.stderr.contains("blocker/sub"), "\(result.stderr)")
    }

    @Test func getTimesOutWithoutPeersAndSaysSo() async throws {
        let work = try TemporaryDirectory("bf-swarm")
        let result = try await ChildProcess.run(Paths.binary, ["get", String(repeating: "ab", count: 20), "-o", work.file("out"),
                                                               "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"),
                                                               "--timeout", "2"], timeout: 30)
        #expect(result.status != 0)
        #expect(result.stderr.contains("timed out"))
        let created = (try? FileManager.default.contentsOfDirectory(atPath: work.file("out"))) ?? []
        #expect(created.isEmpty, "nothing is written without metadata")
    }
}
