import Foundation
import Testing
import TestSupport

/// bf_fountain against other implementations: our repair symbols rebuilt by
/// raptorq 2.0.0 (RFC 6330), and stock libtorrent peers in fountain swarms.
@Suite(.serialized) struct FountainInteropTests {
    typealias Interop = SwarmInterop

    @Test func ourRepairSymbolsAtRandomESIsDecodeWithRaptorq() async throws {
        let check = try await ChildProcess.run(Paths.systemPython, ["-c", "import raptorq"], timeout: 30)
        try #require(check.succeeded, "raptorq 2.0.0 is missing for \(Paths.systemPython): run scripts/setup (\(check.stderr))")
        let work = try TemporaryDirectory("bf-fountain-interop")
        _ = try Interop.randomFile(work.file("f.bin"), size: 3_000_000)
        let created = try await ChildProcess.bitfountain(["create", work.file("f.bin"), "--node", "127.0.0.1:9", "--piece-size", "256K"])
        #expect(created.succeeded, "\(created.stderr)")
        let seed = try await Interop.bitFountainSeed(work.file("f.bin"), state: work.file("state"))
        defer { seed.process.signal(SIGKILL) }

        // Pieces 0 and 5 (K = 16) and the short last one, 11 (K = 8, zero-padded for coding).
        let result = try await ChildProcess.run(Paths.systemPython, [
            Libtorrent.script("lt_fountain_client.py"), "--port", "\(seed.port)", "--torrent", work.file("f.bin.torrent"),
            "--piece", "0", "--piece", "5", "--piece", "11",
        ], timeout: 60)
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        let verified = JSONLines.objects(result.stdout).filter { $0["event"] as? String == "verified" }
        #expect(verified.compactMap { $0["piece"] as? Int } == [0, 5, 11])
        #expect(verified.compactMap { $0["k"] as? Int } == [16, 16, 8])
    }

    @Test func piecesMixBlocksFromLibtorrentWithRepairSymbolsFromBitFountain() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-fountain-interop")
        // The harness's libtorrent has uTP off, so our dialler reaches it over TCP only after
        // uTP's 0.5 s head start: the caps keep the download well past that (≥ 4 s from both
        // seeds) so that both serve; at 2 MB/s our seed alone finished first.
        let seeds = try await Interop.mixedSeeds(work, name: "mixed.bin", size: 4_000_000, pieceSize: 262144, uploadLimit: 500_000)
        defer { seeds.kill() }

        // Repair symbols only from our seed; libtorrent can only give blocks.
        let result = try await ChildProcess.run(Paths.binary, [
            "get", seeds.torrent, "--peer", "127.0.0.1:\(seeds.libtorrentPort)", "--peer", "127.0.0.1:\(seeds.bitFountain.port)",
            "-o", work.file("out"), "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"), "--json", "--timeout", "60",
        ], timeout: 90, environment: ["BITFOUNTAIN_TEST_MODE": "repair-only"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/mixed.bin")) == seeds.content)
        let complete = try #require(JSONLines.event("complete", in: result.stdout))
        #expect(complete["peers"] as? Int == 2, "blocks from libtorrent, symbols from BitFountain")
        #expect(complete["repair_symbols"] as? Int ?? 0 > 0)
        #expect(complete["pieces_decoded"] as? Int ?? 0 > 0)
    }

    @Test func libtorrentDownloadsFromFountainSeedsAsFromAnyOther() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-fountain-interop")
        let content = try Interop.randomFile(work.file("plain.bin"), size: 3_000_000)
        let first = try await Interop.bitFountainSeed(work.file("plain.bin"), state: work.file("s1"), extra: ["--upload-limit", "2M"])
        defer { first.process.signal(SIGKILL) }
        // The other one would send garbage as repair symbols: a stock client never asks for them.
        let second = try await Interop.bitFountainSeed(work.file("plain.bin"), state: work.file("s2"), extra: ["--upload-limit", "2M"],
                                                       environment: ["BITFOUNTAIN_TEST_MODE": "corrupt-repair-symbols"])
        defer { second.process.signal(SIGKILL) }
        let result = try await ChildProcess.run(Paths.systemPython, [
            Interop.helper, "get", "--magnet", first.magnet, "--save", work.file("lt"),
            "--peer", "127.0.0.1:\(first.port)", "--peer", "127.0.0.1:\(second.port)", "--timeout", "60",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("lt/plain.bin")) == content)
    }
}
