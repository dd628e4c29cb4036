import Foundation
import Testing
import TestSupport

/// DESIGN §3's signed node IDs checked against an implementation written
/// independently in Python from the design text (scripts/interop/lt_dht_forger.py).
@Suite(.serialized) struct DHTSignedIdentityInteropTests {
    struct Forger {
        let child: ChildProcess
        let port: Int
    }

    func startForger(_ mode: String) async throws -> Forger {
        try await LibtorrentDHTSwarm.requireLibtorrent()
        let script = Paths.repoRoot.appendingPathComponent("scripts/interop/lt_dht_forger.py").path
        let child = try ChildProcess(Paths.systemPython, [script, "--mode", mode, "--duration", "60"])
        let line = try await child.waitForLine(timeout: 20) { $0.contains("\"listening\"") }
        return Forger(child: child, port: try JSONLines.last(line)["port"] as? Int ?? 0)
    }

    @Test func anHonestIndependentImplementationIsVerifiedBothWays() async throws {
        let forger = try await startForger("honest")
        let ping = try await ChildProcess.bitfountain(["dht", "ping", "127.0.0.1:\(forger.port)", "--bind", "127.0.0.1", "--json"])
        #expect(ping.succeeded, "stderr: \(ping.stderr)")
        let pong = try JSONLines.last(ping.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(pong["tier"] as? String == "verified")
        // The Python side checked our query's signature and ID with its own code.
        let query = try JSONLines.last(try await forger.child.waitForLine(timeout: 10) { $0.contains("\"query\"") })
        #expect(query["signed"] as? Bool == true)
        #expect(query["signature_valid"] as? Bool == true)
        #expect(query["id_matches_key"] as? Bool == true)
        forger.child.signal(SIGTERM)
    }

    @Test func badSignaturesAndForeignIDsAreNeverInserted() async throws {
        let wrongID = try await startForger("wrong-id")
        let badSignature = try await startForger("bad-signature")
        for forger in [wrongID, badSignature] {
            let ping = try await ChildProcess.bitfountain(["dht", "ping", "127.0.0.1:\(forger.port)", "--bind", "127.0.0.1",
                                                           "--json", "--timeout", "10"], timeout: 30)
            #expect(ping.status != 0, "a forged answer must not count as a pong")
        }
        // A node bootstrapping from both receives their answers, drops them, and keeps an empty table.
        let state = try TemporaryDirectory("bf-dht-forged")
        let node = try ChildProcess(Paths.binary, ["node", "--bind", "127.0.0.1", "--port", "0", "--state-dir", state.path, "--json",
                                                   "--stats-interval", "0.3", "--bootstrap", "127.0.0.1:\(wrongID.port)",
                                                   "--bootstrap", "127.0.0.1:\(badSignature.port)"])
        let stats = try JSONLines.last(try await node.waitForLine(timeout: 30) { line in
            guard let stats = try? JSONLines.last(line), stats["event"] as? String == "stats" else { return false }
            return stats["dropped"] as? Int ?? 0 >= 2
        })
        #expect(stats["nodes"] as? Int == 0)
        try await Task.sleep(for: .seconds(1))
        let later = JSONLines.objects(node.stdout).last { $0["event"] as? String == "stats" }
        #expect(later?["nodes"] as? Int == 0)
        node.signal(SIGTERM)
        #expect(await node.wait(timeout: 20).status == 0)
        wrongID.child.signal(SIGTERM)
        badSignature.child.signal(SIGTERM)
    }
}
