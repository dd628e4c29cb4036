import Foundation
import Testing
import TestSupport

/// The fountain-coded swarm between real `bitfountain` processes on 127.0.0.1.
/// The test-only modes (BITFOUNTAIN_TEST_MODE) make a seed send garbage as
/// repair symbols, and make a downloader ask for repair symbols only, so that
/// every piece goes through the decoder.
@Suite(.serialized) struct FountainEndToEndTests {
    static let polluter = ["BITFOUNTAIN_TEST_MODE": "corrupt-repair-symbols"]
    static let repairOnly = ["BITFOUNTAIN_TEST_MODE": "repair-only"]

    /// A file cut into 256 KiB pieces (K = 16 symbols each) and its torrent.
    static func content(_ work: TemporaryDirectory, _ name: String, size: Int) async throws -> Data {
        let data = try Swarm.writeRandomFile(work.file(name), size: size)
        let created = try await ChildProcess.bitfountain(["create", work.file(name), "--node", "127.0.0.1:9", "--piece-size", "256K"])
        #expect(created.succeeded, "\(created.stderr)")
        return data
    }

    static func bannedPeers(_ output: String) -> [String] {
        JSONLines.objects(output).filter { $0["event"] as? String == "peer_banned" }.compactMap { $0["peer"] as? String }
    }

    @Test func aPollutingSeedIsBannedTheDownloadIsRightAndNoHonestSeedIsBanned() async throws {
        let work = try TemporaryDirectory("bf-fountain")
        let content = try await Self.content(work, "data.bin", size: 4_000_000)
        var honest: [Swarm.Seed] = []
        for index in 0..<3 {
            // One honest seed keeps no encoder cache: it builds one per batch. The honest seeds
            // are capped (≥ 5 s for the file from them alone) so that the polluter, even reached
            // late on a busy machine (after the uTP attempt, over TCP), still sends symbols that
            // go into decodes; uncapped, the honest seeds could finish before it said anything.
            let extra = ["--upload-limit", "250K"] + (index == 0 ? ["--symbol-cache", "0"] : [])
            honest.append(try await Swarm.startSeed([work.file("data.bin")], state: work.file("honest-\(index)"), extra: extra))
        }
        let bad = try await Swarm.startSeed([work.file("data.bin")], state: work.file("bad"), environment: Self.polluter)
        #expect(bad.process.stderr.contains("TEST MODE corrupt-repair-symbols"), "the test mode says so loudly")
        let peers = (honest + [bad]).map { "127.0.0.1:\($0.port)" }

        let result = try await Swarm.get(work.file("data.bin.torrent"), output: work.file("out"), state: work.file("state"),
                                         peers: peers, environment: Self.repairOnly)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/data.bin")) == content)
        #expect(Self.bannedPeers(result.stdout) == ["127.0.0.1:\(bad.port)"], "only the polluter is banned")
        let complete = try #require(JSONLines.event("complete", in: result.stdout))
        #expect(complete["pieces_decoded"] as? Int == complete["pieces"] as? Int, "every piece was rebuilt from repair symbols")
        // Found by leave-one-out decoding (a piece mixing its symbols with others'),
        // or, if it happened to send a whole piece alone, as that piece's one contributor.
        // Both can happen in one run: a piece already decoding when the ban lands still
        // counts the polluter's symbols, so a count above zero does not say which came first.
        let reason = JSONLines.event("peer_banned", in: result.stdout)?["reason"] as? String ?? ""
        let polluted = complete["polluted_symbols"] as? Int ?? 0
        #expect(reason.contains("leave-one-out") || reason.contains("sent every symbol"), "\(reason)")
        #expect(!reason.contains("leave-one-out") || polluted > 0, "banned by leave-one-out, yet no polluted symbol counted")
        for seed in honest + [bad] { seed.process.signal(SIGTERM) }
    }

    @Test func aDownloaderServesRepairSymbolsOfThePiecesItHasVerified() async throws {
        let work = try TemporaryDirectory("bf-fountain")
        let content = try await Self.content(work, "share.bin", size: 3_000_000)
        let seed = try await Swarm.startSeed([work.file("share.bin")], state: work.file("seed-state"))
        let first = try ChildProcess(Paths.binary, Swarm.getArguments(work.file("share.bin.torrent"), output: work.file("a"),
                                                                      state: work.file("state-a"), peers: ["127.0.0.1:\(seed.port)"],
                                                                      extra: ["--seed-after"]))
        defer { first.signal(SIGKILL) }
        _ = try await first.waitForLine(timeout: 60) { $0.contains("\"complete\"") }
        let firstPort = JSONLines.event("listening", in: first.stdout)?["port"] as? Int ?? 0
        seed.process.signal(SIGTERM)
        _ = await seed.process.wait(timeout: 20)

        // Only the first downloader is left, and it is asked for repair symbols only.
        let second = try await Swarm.get(work.file("share.bin.torrent"), output: work.file("b"), state: work.file("state-b"),
                                         peers: ["127.0.0.1:\(firstPort)"], environment: Self.repairOnly)
        #expect(second.succeeded, "\(second.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("b/share.bin")) == content)
        let complete = try #require(JSONLines.event("complete", in: second.stdout))
        #expect(complete["pieces_decoded"] as? Int == complete["pieces"] as? Int)

        first.signal(SIGINT)
        let stopped = await first.wait(timeout: 20)
        #expect(stopped.status == 0)
        let stats = JSONLines.objects(stopped.stdout).last { $0["event"] as? String == "stats" }
        // 11 pieces of 16 symbols and a last one of 116,416 bytes (8 symbols).
        #expect(stats?["symbols_uploaded"] as? Int ?? 0 >= 11 * 16 + 8, "every piece went out as K repair symbols")
    }

    @Test func noFountainOnEitherSideMeansPlainBitTorrent() async throws {
        let work = try TemporaryDirectory("bf-fountain")
        let content = try await Self.content(work, "plain.bin", size: 1_500_000)
        let plainSeed = try await Swarm.startSeed([work.file("plain.bin")], state: work.file("plain-seed"), extra: ["--no-fountain"])
        let fountainSeed = try await Swarm.startSeed([work.file("plain.bin")], state: work.file("fountain-seed"))
        let cases: [(seed: Swarm.Seed, getExtra: [String])] = [(plainSeed, []), (fountainSeed, ["--no-fountain"])]
        for (index, (seed, extra)) in cases.enumerated() {
            let result = try await Swarm.get(work.file("plain.bin.torrent"), output: work.file("out-\(index)"), state: work.file("state-\(index)"),
                                             peers: ["127.0.0.1:\(seed.port)"], extra: extra, environment: Self.repairOnly)
            #expect(result.succeeded, "\(result.stderr)")
            #expect(FileManager.default.contents(atPath: work.file("out-\(index)/plain.bin")) == content)
            let complete = try #require(JSONLines.event("complete", in: result.stdout))
            #expect(complete["repair_symbols"] as? Int == 0, "blocks only, although repair symbols were preferred")
        }
    }

    @Test func theUploadLimitCountsRepairSymbolsToo() async throws {
        let work = try TemporaryDirectory("bf-fountain")
        _ = try await Self.content(work, "slow.bin", size: 3_000_000)
        let seed = try await Swarm.startSeed([work.file("slow.bin")], state: work.file("seed-state"), extra: ["--upload-limit", "1M"])
        let started = Date()
        let result = try await Swarm.get(work.file("slow.bin.torrent"), output: work.file("out"), state: work.file("state"),
                                         peers: ["127.0.0.1:\(seed.port)"], environment: Self.repairOnly)
        let seconds = Date().timeIntervalSince(started)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(JSONLines.event("complete", in: result.stdout)?["repair_symbols"] as? Int ?? 0 >= 184)
        // 3 MB of symbols (plus their headers) at 1 MiB/s: at least ~2.8 s, minus one small burst.
        #expect(seconds >= 2.5, "took \(seconds) s")
    }

    @Test func fountainFlagsAreDocumentedAndCheckedAndTestModesAreNotGuessable() async throws {
        for command in ["seed", "get"] {
            let help = try await ChildProcess.bitfountain([command, "--help"])
            #expect(help.stdout.contains("--no-fountain") && help.stdout.contains("--symbol-cache"), "\(help.stdout)")
            #expect(!help.stdout.contains("BITFOUNTAIN_TEST_MODE"), "test modes are not advertised")
        }
        let work = try TemporaryDirectory("bf-fountain")
        let badSize = try await ChildProcess.bitfountain(["get", String(repeating: "ab", count: 20), "-o", work.file("out"),
                                                          "--symbol-cache", "lots", "--timeout", "1"])
        #expect(badSize.status != 0)
        #expect(badSize.stderr.contains("--symbol-cache"), "\(badSize.stderr)")
        let typo = try await ChildProcess.run(Paths.binary, ["get", String(repeating: "ab", count: 20), "-o", work.file("out"),
                                                             "--bind", "127.0.0.1", "--port", "0", "--timeout", "1"],
                                              environment: ["BITFOUNTAIN_TEST_MODE": "corrupt"])
        #expect(typo.status != 0)
        #expect(typo.stderr.contains("unknown test mode"), "\(typo.stderr)")
    }
}
