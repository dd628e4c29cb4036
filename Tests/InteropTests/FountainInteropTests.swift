import Foundation
import Testing
import TestSupport

/// bf_fountain against other implementations: our repair symbols rebuilt by
/// raptorq 2.0.0 (RFC 6330), and stock libtorrent peers in fountain swarms.
@Suite(.serialized) struct FountainInteropTests {
    typealias Interop = SwarmInteropTests

    /// A BitFountain seed of `path` on 127.0.0.1; returns it and its port.
    static func bitFountainSeed(_ path: String, state: String, extra: [String] = [],
                                environment: [String: String]? = nil) async throws -> (ChildProcess, Int) {
        let seed = try ChildProcess(Paths.binary, ["seed", path, "--bind", "127.0.0.1", "--port", "0", "--state-dir", state, "--json"] + extra,
                                    environment: environment)
        _ = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        return (seed, try #require(Interop.field("listening", "port", in: seed.stdout) as? Int))
    }

    @Test func ourRepairSymbolsAtRandomESIsDecodeWithRaptorq() async throws {
        let check = try await ChildProcess.run(Paths.systemPython, ["-c", "import raptorq"], timeout: 30)
        try #require(check.succeeded, "raptorq 2.0.0 is missing for \(Paths.systemPython): run scripts/setup (\(check.stderr))")
        let work = try TemporaryDirectory("bf-fountain-interop")
        _ = try Interop.randomFile(work.file("f.bin"), size: 3_000_000)
        let created = try await ChildProcess.bitfountain(["create", work.file("f.bin"), "--node", "127.0.0.1:9", "--piece-size", "256K"])
        #expect(created.succeeded, "\(created.stderr)")
        let (seed, port) = try await Self.bitFountainSeed(work.file("f.bin"), state: work.file("state"))
        defer { seed.signal(SIGKILL) }

        // Pieces 0 and 5 (K = 16) and the short last one, 11 (K = 8, zero-padded for coding).
        let result = try await ChildProcess.run(Paths.systemPython, [
            Libtorrent.script("lt_fountain_client.py"), "--port", "\(port)", "--torrent", work.file("f.bin.torrent"),
            "--piece", "0", "--piece", "5", "--piece", "11",
        ], timeout: 60)
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        let verified = JSONLines.objects(result.stdout).filter { $0["event"] as? String == "verified" }
        #expect(verified.compactMap { $0["piece"] as? Int } == [0, 5, 11])
        #expect(verified.compactMap { $0["k"] as? Int } == [16, 16, 8])
    }

    @Test func piecesMixBlocksFromLibtorrentWithRepairSymbolsFromBitFountain() async throws {
        try await Interop.requireLibtorrent()
        let work = try TemporaryDirectory("bf-fountain-interop")
        for directory in ["lt", "bf"] { try FileManager.default.createDirectory(atPath: work.file(directory), withIntermediateDirectories: true) }
        let content = try Interop.randomFile(work.file("lt/mixed.bin"), size: 4_000_000)
        try content.write(to: URL(fileURLWithPath: work.file("bf/mixed.bin")))
        let made = try await ChildProcess.run(Paths.systemPython, [Interop.helper, "make", "--content", work.file("lt/mixed.bin"),
                                                                   "--out", work.file("mixed.torrent"), "--piece-size", "262144"], timeout: 60)
        #expect(made.succeeded, "\(made.stderr)")
        let (ltSeed, ltPort) = try await Interop.libtorrentSeed(torrent: work.file("mixed.torrent"), save: work.file("lt"), uploadLimit: 2_000_000)
        defer { ltSeed.signal(SIGKILL) }
        try FileManager.default.copyItem(atPath: work.file("mixed.torrent"), toPath: work.file("bf/mixed.bin.torrent"))
        let (bfSeed, bfPort) = try await Self.bitFountainSeed(work.file("bf/mixed.bin"), state: work.file("seed-state"), extra: ["--upload-limit", "2M"])
        defer { bfSeed.signal(SIGKILL) }

        // Repair symbols only from our seed; libtorrent can only give blocks.
        let result = try await ChildProcess.run(Paths.binary, [
            "get", work.file("mixed.torrent"), "--peer", "127.0.0.1:\(ltPort)", "--peer", "127.0.0.1:\(bfPort)",
            "-o", work.file("out"), "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"), "--json", "--timeout", "60",
        ], timeout: 90, environment: ["BITFOUNTAIN_TEST_MODE": "repair-only"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/mixed.bin")) == content)
        let complete = try #require(JSONLines.event("complete", in: result.stdout))
        #expect(complete["peers"] as? Int == 2, "blocks from libtorrent, symbols from BitFountain")
        #expect(complete["repair_symbols"] as? Int ?? 0 > 0)
        #expect(complete["pieces_decoded"] as? Int ?? 0 > 0)
    }

    @Test func libtorrentDownloadsFromFountainSeedsAsFromAnyOther() async throws {
        try await Interop.requireLibtorrent()
        let work = try TemporaryDirectory("bf-fountain-interop")
        let content = try Interop.randomFile(work.file("plain.bin"), size: 3_000_000)
        let (first, firstPort) = try await Self.bitFountainSeed(work.file("plain.bin"), state: work.file("s1"), extra: ["--upload-limit", "2M"])
        defer { first.signal(SIGKILL) }
        // The other one would send garbage as repair symbols: a stock client never asks for them.
        let (second, secondPort) = try await Self.bitFountainSeed(work.file("plain.bin"), state: work.file("s2"), extra: ["--upload-limit", "2M"],
                                                                  environment: ["BITFOUNTAIN_TEST_MODE": "corrupt-repair-symbols"])
        defer { second.signal(SIGKILL) }
        let magnet = try #require(Interop.field("seeding", "magnet", in: first.stdout) as? String)
        let result = try await ChildProcess.run(Paths.systemPython, [
            Interop.helper, "get", "--magnet", magnet, "--save", work.file("lt"),
            "--peer", "127.0.0.1:\(firstPort)", "--peer", "127.0.0.1:\(secondPort)", "--timeout", "60",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("lt/plain.bin")) == content)
    }
}
