import Foundation
import Testing
import TestSupport

/// BitFountain and libtorrent (python3-libtorrent, scripts/interop/lt_swarm_peer.py)
/// exchanging torrents over TCP on 127.0.0.1, by direct peer connection.
@Suite(.serialized) struct SwarmInteropTests {
    static let helper = Libtorrent.script("lt_swarm_peer.py")

    static func requireLibtorrent() async throws {
        let check = try await ChildProcess.run(Paths.systemPython, ["-c", "import libtorrent"], timeout: 30)
        guard check.succeeded else {
            throw MissingLibtorrent(details: check.stderr)
        }
    }

    struct MissingLibtorrent: Error, CustomStringConvertible {
        let details: String
        var description: String { "python3-libtorrent is missing for \(Paths.systemPython): run scripts/setup (\(details))" }
    }

    static func field(_ event: String, _ key: String, in text: String) -> Any? {
        JSONLines.event(event, in: text)?[key]
    }

    static func randomFile(_ path: String, size: Int) throws -> Data {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try data.write(to: URL(fileURLWithPath: path))
        return data
    }

    /// libtorrent seeding `content` (a torrent it made itself); returns the process and its port.
    static func libtorrentSeed(torrent: String, save: String, uploadLimit: Int = 0) async throws -> (ChildProcess, Int) {
        let seed = try ChildProcess(Paths.systemPython, [helper, "seed", "--torrent", torrent, "--save", save, "--timeout", "120",
                                                         "--upload-limit", String(uploadLimit)])
        _ = try await seed.waitForLine(timeout: 30) { $0.contains("\"seeding\"") }
        return (seed, field("listening", "port", in: seed.stdout) as? Int ?? 0)
    }

    @Test func bitFountainGetsFromLibtorrentByMagnetThroughUTMetadata() async throws {
        try await Self.requireLibtorrent()
        let work = try TemporaryDirectory("bf-interop")
        try FileManager.default.createDirectory(atPath: work.file("lt"), withIntermediateDirectories: true)
        let content = try Self.randomFile(work.file("lt/movie.bin"), size: 5_000_000)
        let made = try await ChildProcess.run(Paths.systemPython, [Self.helper, "make", "--content", work.file("lt/movie.bin"),
                                                                   "--out", work.file("movie.torrent")], timeout: 60)
        #expect(made.succeeded, "\(made.stderr)")
        let infoHash = try #require(Self.field("made", "infohash", in: made.stdout) as? String)
        let (seed, port) = try await Self.libtorrentSeed(torrent: work.file("movie.torrent"), save: work.file("lt"))
        defer { seed.signal(SIGKILL) }

        let result = try await ChildProcess.run(Paths.binary, [
            "get", "magnet:?xt=urn:btih:\(infoHash)&dn=movie.bin", "--peer", "127.0.0.1:\(port)", "-o", work.file("bf"),
            "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"), "--json", "--timeout", "60",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("bf/movie.bin")) == content)
        #expect(JSONLines.objects(result.stdout).contains { $0["event"] as? String == "metadata" }, "metadata came over ut_metadata")
        #expect(Self.field("complete", "peers", in: result.stdout) as? Int == 1)
    }

    @Test func libtorrentGetsFromBitFountainByMagnet() async throws {
        try await Self.requireLibtorrent()
        let work = try TemporaryDirectory("bf-interop")
        try FileManager.default.createDirectory(atPath: work.file("bf"), withIntermediateDirectories: true)
        let content = try Self.randomFile(work.file("bf/talk.bin"), size: 5_000_000)
        let seed = try ChildProcess(Paths.binary, ["seed", work.file("bf/talk.bin"), "--bind", "127.0.0.1", "--port", "0",
                                                   "--state-dir", work.file("state"), "--json"])
        defer { seed.signal(SIGKILL) }
        _ = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        let port = try #require(Self.field("listening", "port", in: seed.stdout) as? Int)
        let magnet = try #require(Self.field("seeding", "magnet", in: seed.stdout) as? String)

        let result = try await ChildProcess.run(Paths.systemPython, [Self.helper, "get", "--magnet", magnet, "--save", work.file("lt"),
                                                                     "--peer", "127.0.0.1:\(port)", "--timeout", "60"], timeout: 90)
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        #expect(JSONLines.objects(result.stdout).contains { $0["event"] as? String == "metadata" })
        #expect(Self.field("complete", "bytes", in: result.stdout) as? Int == 5_000_000)
        #expect(FileManager.default.contents(atPath: work.file("lt/talk.bin")) == content)
    }

    @Test func mixedSwarmFeedsABitFountainDownloaderFromBothSeeds() async throws {
        try await Self.requireLibtorrent()
        let work = try TemporaryDirectory("bf-interop")
        for directory in ["lt", "bf"] { try FileManager.default.createDirectory(atPath: work.file(directory), withIntermediateDirectories: true) }
        let content = try Self.randomFile(work.file("lt/mixed.bin"), size: 8_000_000)
        try content.write(to: URL(fileURLWithPath: work.file("bf/mixed.bin")))
        let made = try await ChildProcess.run(Paths.systemPython, [Self.helper, "make", "--content", work.file("lt/mixed.bin"),
                                                                   "--out", work.file("mixed.torrent"), "--piece-size", "65536"], timeout: 60)
        #expect(made.succeeded, "\(made.stderr)")
        // Both seeds are rate-limited so that neither can serve everything before the other is connected.
        let (ltSeed, ltPort) = try await Self.libtorrentSeed(torrent: work.file("mixed.torrent"), save: work.file("lt"), uploadLimit: 3_000_000)
        defer { ltSeed.signal(SIGKILL) }
        // Our seed serves libtorrent's torrent from its own copy of the content.
        try FileManager.default.copyItem(atPath: work.file("mixed.torrent"), toPath: work.file("bf/mixed.bin.torrent"))
        let bfSeed = try ChildProcess(Paths.binary, ["seed", work.file("bf/mixed.bin"), "--bind", "127.0.0.1", "--port", "0",
                                                     "--state-dir", work.file("seed-state"), "--json", "--upload-limit", "3M"])
        defer { bfSeed.signal(SIGKILL) }
        _ = try await bfSeed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        let bfPort = try #require(Self.field("listening", "port", in: bfSeed.stdout) as? Int)

        let result = try await ChildProcess.run(Paths.binary, [
            "get", work.file("mixed.torrent"), "--peer", "127.0.0.1:\(ltPort)", "--peer", "127.0.0.1:\(bfPort)",
            "-o", work.file("out"), "--bind", "127.0.0.1", "--port", "0", "--state-dir", work.file("state"), "--json", "--timeout", "60",
        ], timeout: 90)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/mixed.bin")) == content)
        #expect(Self.field("complete", "peers", in: result.stdout) as? Int == 2, "blocks came from both seeds: \(result.stdout.suffix(400))")
    }
}
