import Foundation
import Testing
import TestSupport

/// libtorrent nodes whose only bootstrap is `bitfountain router`, given as
/// their `dht_bootstrap_nodes` router.
@Suite(.serialized) struct RouterLibtorrentInteropTests {
    @Test func libtorrentNodesFillTheirTablesFromTheRouter() async throws {
        try await LibtorrentDHTSwarm.requireLibtorrent()
        let state = try TemporaryDirectory("bf-router-lt")
        let router = try ChildProcess(Paths.binary, ["router", "--bind", "127.0.0.1", "--port", "0", "--allow-private",
                                                     "--admit-delay", "1", "--json", "--log-interval", "1",
                                                     "--state-dir", state.path, "--capacity", "1000"])
        let listening = try JSONLines.last(try await router.waitForLine(timeout: 30) { $0.contains("\"listening\"") })
        let port = listening["port"] as? Int ?? 0

        // Six libtorrent nodes in two waves: the first is admitted to the ring,
        // the second gets the first from the router, the first learns the second
        // from its queries.
        let clients = try await ChildProcess.run(Paths.systemPython, [Libtorrent.script("lt_router_clients.py"),
                                                                      "--router", "127.0.0.1:\(port)", "--nodes", "6",
                                                                      "--waves", "2", "--wave-delay", "4",
                                                                      "--min-nodes", "3", "--duration", "60"], timeout: 90)
        let last = try JSONLines.last(clients.stdout)
        let sizes = last["sizes"] as? [Int] ?? []
        let ports = Set((last["ports"] as? [Int] ?? []).map { "127.0.0.1:\($0)" })
        let tables = (last["endpoints"] as? [[String]] ?? []).map(Set.init)
        #expect(clients.succeeded, "libtorrent tables: \(sizes); stderr: \(clients.stderr.suffix(1_000))")
        #expect(sizes.count == 6 && sizes.allSatisfy { $0 >= 3 }, "libtorrent routing-table sizes: \(sizes)")
        // Their tables hold each other, never the router (libtorrent keeps routers out).
        #expect(tables.allSatisfy { !$0.isEmpty && $0.isSubset(of: ports) }, "tables: \(tables), nodes: \(ports)")

        // The router pinged and admitted all six.
        let stats = try await router.waitForLine(timeout: 10) { line in
            guard let event = try? JSONLines.last(line), event["event"] as? String == "stats" else { return false }
            return event["contacts_v4"] as? Int ?? 0 >= 6
        }
        let event = try JSONLines.last(stats)
        #expect(event["pings_answered"] as? Int ?? 0 >= 6)
        router.signal(SIGTERM)
        let result = await router.wait(timeout: 10)
        #expect(result.status == 0)
    }
}
