import Foundation
import Testing
import TestSupport

/// The main job with stock clients, peers found only through the DHT: a
/// 5-node libtorrent DHT on loopback (scripts/interop/lt_dht_swarm.py) is the
/// whole world; magnet links carry no x.pe and nobody is given --peer.
@Suite(.serialized) struct SwarmDHTInteropTests {
    static let helper = Libtorrent.script("lt_swarm_peer.py")

    /// The `--dht-node` arguments that make a libtorrent peer join the loopback DHT.
    static func dhtNodes(_ swarm: LibtorrentDHTSwarm) -> [String] {
        swarm.ports.flatMap { ["--dht-node", "\($0)"] }
    }

    /// A libtorrent seed of `torrent` (content in `save`) that announces itself on the DHT.
    static func libtorrentSeed(torrent: String, save: String, swarm: LibtorrentDHTSwarm,
                               uploadLimit: Int = 0) async throws -> ChildProcess {
        let seed = try ChildProcess(Paths.systemPython, [helper, "seed", "--torrent", torrent, "--save", save, "--timeout", "150",
                                                         "--upload-limit", String(uploadLimit)] + dhtNodes(swarm))
        _ = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        return seed
    }

    /// A BitFountain seed that joins the DHT through the libtorrent nodes.
    static func bitFountainSeed(_ path: String, state: String, swarm: LibtorrentDHTSwarm, extra: [String] = []) async throws
        -> (ChildProcess, infoHash: String) {
        let seed = try ChildProcess(Paths.binary, ["seed", path, "--bind", "127.0.0.1", "--port", "0", "--state-dir", state,
                                                   "--json"] + swarm.bootstrapArguments + extra)
        let line = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        let magnet = try JSONLines.last(line)["magnet"] as? String ?? ""
        let hash = String(magnet.split(separator: "&")[0].dropFirst("magnet:?xt=urn:btih:".count))
        return (seed, hash)
    }

    static func randomFile(_ path: String, size: Int) throws -> Data {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
        return data
    }

    static func makeTorrent(content: String, out: String, pieceSize: Int = 0) async throws -> String {
        let made = try await ChildProcess.run(Paths.systemPython, [helper, "make", "--content", content, "--out", out,
                                                                   "--piece-size", "\(pieceSize)"], timeout: 60)
        try #require(made.succeeded, "\(made.stderr)")
        return try #require(JSONLines.event("made", in: made.stdout)?["infohash"] as? String)
    }

    @Test func bitFountainGetsALibtorrentSeedByMagnetThroughTheDHT() async throws {
        let swarm = try await LibtorrentDHTSwarm.start(duration: 150)
        defer { swarm.stop() }
        let work = try TemporaryDirectory("bf-dht-get")
        let content = try Self.randomFile(work.file("lt/film.bin"), size: 3_000_000)
        let infoHash = try await Self.makeTorrent(content: work.file("lt/film.bin"), out: work.file("film.torrent"))
        let seed = try await Self.libtorrentSeed(torrent: work.file("film.torrent"), save: work.file("lt"), swarm: swarm)
        defer { seed.signal(SIGKILL) }

        let result = try await ChildProcess.run(Paths.binary, [
            "get", "magnet:?xt=urn:btih:\(infoHash)&dn=film.bin", "-o", work.file("bf"), "--bind", "127.0.0.1", "--port", "0",
            "--state-dir", work.file("state"), "--json", "--timeout", "90",
        ] + swarm.bootstrapArguments, timeout: 120)
        #expect(result.succeeded, "\(result.stderr.suffix(2000))")
        #expect(FileManager.default.contents(atPath: work.file("bf/film.bin")) == content)
        #expect(JSONLines.event("metadata", in: result.stdout) != nil, "the metadata came from the peer over ut_metadata")
        #expect((JSONLines.event("listening", in: result.stdout)?["dht_port"] as? Int ?? 0) > 0, "a DHT node was running")
    }

    @Test func libtorrentGetsABitFountainSeedByMagnetThroughTheDHT() async throws {
        let swarm = try await LibtorrentDHTSwarm.start(duration: 150)
        defer { swarm.stop() }
        let work = try TemporaryDirectory("bf-dht-seed")
        let content = try Self.randomFile(work.file("bf/talk.bin"), size: 3_000_000)
        let (seed, infoHash) = try await Self.bitFountainSeed(work.file("bf/talk.bin"), state: work.file("state"), swarm: swarm)
        defer { seed.signal(SIGKILL) }

        // A bare magnet link: libtorrent has to find the seed on the DHT.
        let result = try await ChildProcess.run(Paths.systemPython, [Self.helper, "get", "--magnet", "magnet:?xt=urn:btih:\(infoHash)",
                                                                     "--save", work.file("lt"), "--timeout", "90"] + Self.dhtNodes(swarm),
                                                timeout: 120)
        #expect(result.succeeded, "\(result.stdout.suffix(1500)) \(result.stderr.suffix(1500))")
        #expect(FileManager.default.contents(atPath: work.file("lt/talk.bin")) == content)
        seed.signal(SIGTERM)
        #expect(await seed.wait(timeout: 20).status == 0, "seed stops cleanly and saves its DHT state")
        #expect(FileManager.default.fileExists(atPath: work.file("state/dht-state.benc")))
    }

    @Test func mixedSwarmFoundOnTheDHTFeedsABitFountainDownloader() async throws {
        let swarm = try await LibtorrentDHTSwarm.start(duration: 150)
        defer { swarm.stop() }
        let work = try TemporaryDirectory("bf-dht-mixed")
        let content = try Self.randomFile(work.file("lt/mixed.bin"), size: 8_000_000)
        try FileManager.default.createDirectory(atPath: work.file("bf"), withIntermediateDirectories: true)
        try content.write(to: URL(fileURLWithPath: work.file("bf/mixed.bin")))
        let infoHash = try await Self.makeTorrent(content: work.file("lt/mixed.bin"), out: work.file("mixed.torrent"), pieceSize: 65536)
        try FileManager.default.copyItem(atPath: work.file("mixed.torrent"), toPath: work.file("bf/mixed.bin.torrent"))
        // Both seeds capped so that neither can serve everything before the other is found.
        let ltSeed = try await Self.libtorrentSeed(torrent: work.file("mixed.torrent"), save: work.file("lt"), swarm: swarm,
                                                   uploadLimit: 2_000_000)
        defer { ltSeed.signal(SIGKILL) }
        let (bfSeed, bfHash) = try await Self.bitFountainSeed(work.file("bf/mixed.bin"), state: work.file("seed-state"), swarm: swarm,
                                                              extra: ["--upload-limit", "2M"])
        defer { bfSeed.signal(SIGKILL) }
        #expect(bfHash == infoHash)

        let result = try await ChildProcess.run(Paths.binary, [
            "get", infoHash, "-o", work.file("out"), "--bind", "127.0.0.1", "--port", "0",
            "--state-dir", work.file("state"), "--json", "--timeout", "90",
        ] + swarm.bootstrapArguments, timeout: 120)
        #expect(result.succeeded, "\(result.stderr.suffix(2000))")
        #expect(FileManager.default.contents(atPath: work.file("out/mixed.bin")) == content)
        #expect(JSONLines.event("complete", in: result.stdout)?["peers"] as? Int == 2,
                "blocks came from both seeds: \(result.stdout.suffix(400))")
    }
}
