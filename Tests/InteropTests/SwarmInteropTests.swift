import Foundation
import Testing
import TestSupport

/// BitFountain and libtorrent (python3-libtorrent, scripts/interop/lt_swarm_peer.py)
/// exchanging torrents over TCP on 127.0.0.1, by direct peer connection.
@Suite(.serialized) struct SwarmInteropTests {
    typealias Interop = SwarmInterop

    @Test func bitFountainGetsFromLibtorrentByMagnetThroughUTMetadata() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-interop")
        let content = try Interop.randomFile(work.file("lt/movie.bin"), size: 5_000_000)
        let infoHash = try await Interop.makeTorrent(content: work.file("lt/movie.bin"), out: work.file("movie.torrent"))
        let (seed, port) = try await Interop.libtorrentSeed(torrent: work.file("movie.torrent"), save: work.file("lt"))
        defer { seed.signal(SIGKILL) }

        let result = try await ChildProcess.run(Paths.binary, [
            "get", "magnet:?xt=urn:btih:\(infoHash)&dn=movie.bin", "--peer", "127.0.0.1:\(port)", "-o", work.file("bf"),
            "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"), "--json", "--timeout", "60",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("bf/movie.bin")) == content)
        #expect(JSONLines.objects(result.stdout).contains { $0["event"] as? String == "metadata" }, "metadata came over ut_metadata")
        #expect(Interop.field("complete", "peers", in: result.stdout) as? Int == 1)
    }

    @Test func libtorrentGetsFromBitFountainByMagnet() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-interop")
        let content = try Interop.randomFile(work.file("bf/talk.bin"), size: 5_000_000)
        let seed = try await Interop.bitFountainSeed(work.file("bf/talk.bin"), state: work.file("state"))
        defer { seed.process.signal(SIGKILL) }

        let result = try await ChildProcess.run(Paths.systemPython, [Interop.helper, "get", "--magnet", seed.magnet, "--save", work.file("lt"),
                                                                     "--peer", "127.0.0.1:\(seed.port)", "--timeout", "60"], timeout: 90)
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        #expect(JSONLines.objects(result.stdout).contains { $0["event"] as? String == "metadata" })
        #expect(Interop.field("complete", "bytes", in: result.stdout) as? Int == 5_000_000)
        #expect(FileManager.default.contents(atPath: work.file("lt/talk.bin")) == content)
    }

    @Test func mixedSwarmFeedsABitFountainDownloaderFromBothSeeds() async throws {
        try await Libtorrent.require()
        let work = try TemporaryDirectory("bf-interop")
        // Our seed serves libtorrent's torrent from its own copy of the content.
        // The harness's libtorrent has uTP off, so our dialler reaches it over TCP only after
        // uTP's 0.5 s head start: the caps keep the download well past that (≥ 4 s from both
        // seeds) so that both serve; at 3 MB/s our seed alone finished first.
        let seeds = try await Interop.mixedSeeds(work, name: "mixed.bin", size: 8_000_000, pieceSize: 65536, uploadLimit: 1_000_000)
        defer { seeds.kill() }

        let result = try await ChildProcess.run(Paths.binary, [
            "get", seeds.torrent, "--peer", "127.0.0.1:\(seeds.libtorrentPort)", "--peer", "127.0.0.1:\(seeds.bitFountain.port)",
            "-o", work.file("out"), "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"), "--json", "--timeout", "60",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/mixed.bin")) == seeds.content)
        #expect(Interop.field("complete", "peers", in: result.stdout) as? Int == 2, "blocks came from both seeds: \(result.stdout.suffix(400))")
    }
}
