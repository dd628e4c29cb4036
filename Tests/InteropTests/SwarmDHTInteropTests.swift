import Foundation
import Testing
import TestSupport

/// The main job with stock clients, peers found only through the DHT: a
/// 5-node libtorrent DHT on loopback (scripts/interop/lt_dht_swarm.py) is the
/// whole world; magnet links carry no x.pe and nobody is given --peer.
@Suite(.serialized) struct SwarmDHTInteropTests {
    typealias Interop = SwarmInterop

    /// The `--dht-node` arguments that make a libtorrent peer join the loopback DHT.
    static func dhtNodes(_ swarm: LibtorrentDHTSwarm) -> [String] {
        swarm.ports.flatMap { ["--dht-node", "\($0)"] }
    }

    @Test func bitFountainGetsALibtorrentSeedByMagnetThroughTheDHT() async throws {
        let swarm = try await LibtorrentDHTSwarm.start(duration: 150)
        defer { swarm.stop() }
        let work = try TemporaryDirectory("bf-dht-get")
        let content = try Interop.randomFile(work.file("lt/film.bin"), size: 3_000_000)
        let infoHash = try await Interop.makeTorrent(content: work.file("lt/film.bin"), out: work.file("film.torrent"))
        // It announces itself on the DHT.
        let (seed, _) = try await Interop.libtorrentSeed(torrent: work.file("film.torrent"), save: work.file("lt"), extra: Self.dhtNodes(swarm))
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
        let content = try Interop.randomFile(work.file("bf/talk.bin"), size: 3_000_000)
        // It joins the DHT through the libtorrent nodes.
        let seed = try await Interop.bitFountainSeed(work.file("bf/talk.bin"), state: work.file("state"), extra: swarm.bootstrapArguments)
        defer { seed.process.signal(SIGKILL) }

        // A bare magnet link: libtorrent has to find the seed on the DHT.
        let result = try await ChildProcess.run(Paths.systemPython, [Interop.helper, "get", "--magnet", "magnet:?xt=urn:btih:\(seed.infoHash)",
                                                                     "--save", work.file("lt"), "--timeout", "90"] + Self.dhtNodes(swarm),
                                                timeout: 120)
        #expect(result.succeeded, "\(result.stdout.suffix(1500)) \(result.stderr.suffix(1500))")
        #expect(FileManager.default.contents(atPath: work.file("lt/talk.bin")) == content)
        seed.process.signal(SIGTERM)
        #expect(await seed.process.wait(timeout: 20).status == 0, "seed stops cleanly and saves its DHT state")
        #expect(FileManager.default.fileExists(atPath: work.file("state/dht-state.benc")))
    }

    @Test func mixedSwarmFoundOnTheDHTFeedsABitFountainDownloader() async throws {
        let swarm = try await LibtorrentDHTSwarm.start(duration: 150)
        defer { swarm.stop() }
        let work = try TemporaryDirectory("bf-dht-mixed")
        // Both seeds announce themselves on the DHT, and are found there only. The caps keep the
        // download past uTP's 0.5 s head start that precedes TCP to the harness's uTP-less
        // libtorrent (at 2 MB/s our seed alone could finish first on a busy machine).
        let seeds = try await Interop.mixedSeeds(work, name: "mixed.bin", size: 8_000_000, pieceSize: 65536, uploadLimit: 1_000_000,
                                                 libtorrentExtra: Self.dhtNodes(swarm), bitFountainExtra: swarm.bootstrapArguments)
        defer { seeds.kill() }
        #expect(seeds.bitFountain.infoHash == seeds.infoHash)
        // Both seeds must be on the DHT before `get` looks: with one useful seed connected, `get`
        // does not look again for minutes, and libtorrent's announce can come seconds after ours.
        let expected: Set<String> = ["127.0.0.1:\(seeds.libtorrentPort)", "127.0.0.1:\(seeds.bitFountain.port)"]
        let announced = try await Waiting.pollAsync(timeout: 60, every: .milliseconds(500)) { () -> Bool? in
            let lookup = try await ChildProcess.bitfountain(["dht", "get-peers", seeds.infoHash, "--bind", "127.0.0.1", "--json",
                                                             "--timeout", "10"] + swarm.bootstrapArguments, timeout: 30)
            let found = Set(JSONLines.objects(lookup.stdout).filter { $0["event"] as? String == "peer" }.compactMap { $0["address"] as? String })
            return expected.isSubset(of: found) ? true : nil
        }
        try #require(announced == true, "both seeds announced on the DHT")

        let result = try await ChildProcess.run(Paths.binary, [
            "get", seeds.infoHash, "-o", work.file("out"), "--bind", "127.0.0.1", "--port", "0",
            "--state-dir", work.file("state"), "--json", "--timeout", "90",
        ] + swarm.bootstrapArguments, timeout: 120)
        #expect(result.succeeded, "\(result.stderr.suffix(2000))")
        #expect(FileManager.default.contents(atPath: work.file("out/mixed.bin")) == seeds.content)
        #expect(JSONLines.event("complete", in: result.stdout)?["peers"] as? Int == 2,
                "blocks came from both seeds: \(result.stdout.suffix(400))")
    }
}
