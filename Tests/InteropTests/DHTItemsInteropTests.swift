import Foundation
import Testing
import TestSupport

/// BEP 44 items between our DHT and libtorrent's, both ways, on loopback:
/// immutable items, mutable items with a salt, and a mutable update (seq 2)
/// replacing the first version.
@Suite(.serialized) struct DHTItemsInteropTests {
    /// scripts/interop/lt_dht_items.py, driven like lt_dht_swarm.py.
    static func startLibtorrent() async throws -> LibtorrentDHTSwarm {
        try await LibtorrentDHTSwarm.requireLibtorrent()
        let directory = try TemporaryDirectory("bf-lt-items")
        let control = directory.file("control")
        _ = FileManager.default.createFile(atPath: control, contents: nil)
        let script = Paths.repoRoot.appendingPathComponent("scripts/interop/lt_dht_items.py").path
        let child = try ChildProcess(Paths.systemPython, [script, "--nodes", "5", "--control", control, "--duration", "150"])
        let ready = try await child.waitForLine(timeout: 60) { $0.contains("\"ready\"") }
        return LibtorrentDHTSwarm(child: child, ports: (try JSONLines.last(ready)["ports"] as? [Int]) ?? [], control: control,
                                  directory: directory)
    }

    /// `bitfountain dht get` until it finds an item satisfying `match` (a put may still be landing).
    static func bitfountainGet(_ arguments: [String], swarm: LibtorrentDHTSwarm,
                               match: ([String: Any]) -> Bool) async throws -> [String: Any]? {
        for _ in 0..<5 {
            let result = try await ChildProcess.bitfountain(["dht", "get"] + arguments + swarm.bootstrapArguments
                                                                + ["--bind", "127.0.0.1", "--json", "--timeout", "15"], timeout: 30)
            if let item = JSONLines.objects(result.stdout).first(where: { $0["event"] as? String == "item" }), match(item) {
                return item
            }
            try await Task.sleep(for: .seconds(1))
        }
        return nil
    }

    @Test func libtorrentsItemsAreGotByUs() async throws {
        let swarm = try await Self.startLibtorrent()
        defer { swarm.stop() }

        try swarm.send(["cmd": "put_immutable", "value": "hello from libtorrent"])
        let put = try await swarm.waitForEvent("put", timeout: 30) { ($0["nodes"] as? Int ?? 0) > 0 }
        let target = put["target"] as? String ?? ""
        let immutable = try await Self.bitfountainGet([target], swarm: swarm) { _ in true }
        #expect(immutable?["value"] as? String == "hello from libtorrent")

        // A mutable item with a salt, then its update.
        let seed = String(repeating: "01", count: 32)
        let key = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"  // ed25519 public key of that seed
        try swarm.send(["cmd": "put_mutable", "seed": seed, "value": "libtorrent v1", "salt": "feed"])
        _ = try await swarm.waitForEvent("put", timeout: 30) { $0["seq"] as? Int == 1 && ($0["nodes"] as? Int ?? 0) > 0 }
        let first = try await Self.bitfountainGet([key, "--salt", "feed"], swarm: swarm) { _ in true }
        #expect(first?["value"] as? String == "libtorrent v1")
        #expect(first?["seq"] as? Int == 1)

        try swarm.send(["cmd": "put_mutable", "seed": seed, "value": "libtorrent v2", "salt": "feed"])
        _ = try await swarm.waitForEvent("put", timeout: 30) { $0["seq"] as? Int == 2 && ($0["nodes"] as? Int ?? 0) > 0 }
        let second = try await Self.bitfountainGet([key, "--salt", "feed"], swarm: swarm) { $0["seq"] as? Int == 2 }
        #expect(second?["value"] as? String == "libtorrent v2")
        // Another salt under the same key is another item: nothing there.
        let other = try await ChildProcess.bitfountain(["dht", "get", key, "--salt", "other"] + swarm.bootstrapArguments
                                                           + ["--bind", "127.0.0.1", "--json", "--timeout", "10"], timeout: 30)
        #expect(!other.succeeded)
    }

    @Test func ourItemsAreGotByLibtorrent() async throws {
        let swarm = try await Self.startLibtorrent()
        defer { swarm.stop() }
        let state = try TemporaryDirectory("bf-items-keys")
        let common = swarm.bootstrapArguments + ["--bind", "127.0.0.1", "--json", "--timeout", "20"]

        let immutable = try await ChildProcess.bitfountain(["dht", "put", "hello from BitFountain"] + common, timeout: 40)
        #expect(immutable.succeeded, "stderr: \(immutable.stderr)")
        let target = JSONLines.objects(immutable.stdout).first { $0["event"] as? String == "put" }?["target"] as? String ?? ""
        try swarm.send(["cmd": "get_immutable", "target": target])
        let got = try await swarm.waitForEvent("immutable", timeout: 30)
        #expect(got["value"] as? String == "hello from BitFountain")

        // A key imported from a hex seed, so libtorrent's view can be checked against a known public key.
        let seedFile = state.file("seed.hex")
        try String(repeating: "02", count: 32).write(toFile: seedFile, atomically: true, encoding: .utf8)
        let imported = try await ChildProcess.bitfountain(["key", "import", "feed", seedFile, "--state-dir", state.path, "--json"])
        #expect(imported.succeeded, "stderr: \(imported.stderr)")
        let key = JSONLines.objects(imported.stdout).first?["public_key"] as? String ?? ""
        #expect(key.count == 64)

        for (version, text) in ["BitFountain v1", "BitFountain v2"].enumerated() {
            let put = try await ChildProcess.bitfountain(["dht", "put", text, "--key", "feed", "--salt", "feed",
                                                          "--state-dir", state.path] + common, timeout: 40)
            #expect(put.succeeded, "stderr: \(put.stderr)")
            #expect(JSONLines.objects(put.stdout).first?["seq"] as? Int == version + 1)
            var latest: [String: Any]?
            for _ in 0..<5 where latest == nil {
                try swarm.send(["cmd": "get_mutable", "key": key, "salt": "feed"])
                latest = try? await swarm.waitForEvent("mutable", timeout: 15) { $0["seq"] as? Int == version + 1 }
            }
            #expect(latest?["value"] as? String == text, "libtorrent did not get \(text)")
            #expect(latest?["key"] as? String == key)
        }
    }
}
