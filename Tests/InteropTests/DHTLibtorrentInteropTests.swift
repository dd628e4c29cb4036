import Foundation
import Testing
import TestSupport

/// Our DHT against libtorrent-rasterbar (python3-libtorrent) on loopback.
@Suite(.serialized) struct DHTLibtorrentInteropTests {
    @Test func bootstrapsFromLibtorrentAndLibtorrentLearnsUs() async throws {
        let swarm = try await LibtorrentDHTSwarm.start()
        defer { swarm.stop() }
        let state = try TemporaryDirectory("bf-dht-lt-node")
        let node = try ChildProcess(Paths.binary, ["node", "--bind", "127.0.0.1", "--port", "0", "--state-dir", state.path,
                                                   "--json", "--stats-interval", "0.3"] + swarm.bootstrapArguments)
        let listening = try JSONLines.last(try await node.waitForLine(timeout: 30) { $0.contains("\"listening\"") })
        let port = listening["port"] as? Int ?? 0
        // All five libtorrent nodes answer our (signed) queries and enter our table as plain nodes.
        _ = try await node.waitForLine(timeout: 30) { line in
            guard let stats = try? JSONLines.last(line), stats["event"] as? String == "stats" else { return false }
            return stats["nodes"] as? Int ?? 0 >= 5
        }
        // libtorrent accepted our messages (extra k/sig keys and all) and keeps us in its routing tables.
        var learned = 0
        for _ in 0..<20 where learned < 3 {
            try swarm.send(["cmd": "tables"])
            let tables = try await swarm.waitForEvent("tables", timeout: 10)
            learned = (tables["tables"] as? [[String]] ?? []).filter { $0.contains("127.0.0.1:\(port)") }.count
            if learned < 3 { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(learned >= 3, "libtorrent nodes with us in their routing table: \(learned) of 5")

        // A stock node is served and classified as plain; its version tag comes through.
        let ping = try await ChildProcess.bitfountain(["dht", "ping", "127.0.0.1:\(swarm.ports[0])", "--bind", "127.0.0.1", "--json"])
        #expect(ping.succeeded, "stderr: \(ping.stderr)")
        let pong = try JSONLines.last(ping.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(pong["tier"] as? String == "plain")
        #expect((pong["version"] as? String ?? "").hasPrefix("LT"))

        // libtorrent's BEP 51 client understands our sample_infohashes reply.
        try swarm.send(["cmd": "sample", "port": port])
        let samples = try await swarm.waitForEvent("samples", timeout: 20)
        #expect(samples["endpoint"] as? String == "127.0.0.1:\(port)")
        #expect(samples["interval"] as? Int == 300)

        node.signal(SIGTERM)
        let result = await node.wait(timeout: 20)
        #expect(result.status == 0)
    }

    @Test func announcesCrossBothWays() async throws {
        let swarm = try await LibtorrentDHTSwarm.start()
        defer { swarm.stop() }
        let common = swarm.bootstrapArguments + ["--bind", "127.0.0.1", "--json", "--timeout", "15"]

        // A libtorrent seed announces itself; `bitfountain dht get-peers` finds it.
        try swarm.send(["cmd": "seed"])
        let seeding = try await swarm.waitForEvent("seeding", timeout: 30)
        let infohash = seeding["infohash"] as? String ?? ""
        let seedPeer = "127.0.0.1:\(seeding["port"] as? Int ?? 0)"
        var found = false
        for _ in 0..<10 where !found {
            let lookup = try await ChildProcess.bitfountain(["dht", "get-peers", infohash] + common, timeout: 40)
            found = JSONLines.objects(lookup.stdout).contains { $0["event"] as? String == "peer" && $0["address"] as? String == seedPeer }
            if !found { try await Task.sleep(for: .seconds(1)) }
        }
        #expect(found, "libtorrent's announce of \(infohash) at \(seedPeer) was not found")

        // Our announce (announce_peer with tokens, k/sig, ro) is found by libtorrent's get_peers.
        let ours = "bf00000000000000000000000000000000000042"
        let announce = try await ChildProcess.bitfountain(["dht", "announce", ours, "7777"] + common, timeout: 40)
        #expect(announce.succeeded, "stderr: \(announce.stderr)")
        let record = JSONLines.objects(announce.stdout).first { $0["event"] as? String == "announced" }
        #expect((record?["nodes"] as? Int ?? 0) >= 3, "libtorrent nodes that accepted announce_peer")
        try swarm.send(["cmd": "lookup", "infohash": ours])
        let peers = try await swarm.waitForEvent("peers", timeout: 30) { ($0["peers"] as? [String] ?? []).contains("127.0.0.1:7777") }
        #expect(peers["infohash"] as? String == ours)
    }
}
