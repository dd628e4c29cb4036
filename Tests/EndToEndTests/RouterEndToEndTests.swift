@testable import BitFountain
import DHT
import Foundation
import Identity
import Metainfo
import NIOPosix
import Testing
import TestSupport

/// `bitfountain router` as a process on loopback: nodes bootstrap from it
/// alone, it survives kill -9, and garbage does not stop it.
@Suite(.serialized) struct RouterEndToEndTests {
    private func nodeConfiguration(router: NodeAddress, group: MultiThreadedEventLoopGroup) -> DHTNodeConfiguration {
        var configuration = DHTNodeConfiguration()
        configuration.bindAddress = "127.0.0.1"
        configuration.port = 0
        configuration.bootstrap = [HostPort(host: "127.0.0.1", port: router.port)]
        configuration.eventLoopGroup = group
        // Quicker upkeep than on the Internet, so the test takes seconds.
        configuration.dht.maintenanceInterval = .seconds(1)
        configuration.dht.bootstrapRetryInitial = .seconds(1)
        return configuration
    }

    @Test func twentyNodesFindEachOtherThroughTheRouterAlone() async throws {
        let state = try TemporaryDirectory("bf-router-e2e")
        let router = try await RouterProcess.start(stateDirectory: state.path)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var nodes: [DHTNode] = []
        for _ in 0..<20 { nodes.append(try await DHTNode.start(nodeConfiguration(router: router.address, group: group))) }

        // The router pings each node a second after its first query and admits those that answer.
        // Each worker publishes its snapshot on its own beat, and a contact whose pong reached
        // one worker is stored by its home worker: a scrape can show the contact before the
        // pong is counted (19 pings for 20 contacts in CI). Wait until every figure caught up.
        let metrics = try await router.waitForMetrics(timeout: 30) {
            $0["bitfountain_router_contacts{family=\"ipv4\"}"] ?? 0 >= 20 && $0["bitfountain_router_pings_answered_total"] ?? 0 >= 20
                && $0["bitfountain_router_queries_total{type=\"find_node\"}"] ?? 0 >= 20
        }
        #expect(metrics["bitfountain_router_contacts{family=\"ipv4\"}"] ?? 0 >= 20, "\(metrics)")
        #expect(metrics["bitfountain_router_pings_answered_total"] ?? 0 >= 20)
        #expect(metrics["bitfountain_router_queries_total{type=\"find_node\"}"] ?? 0 >= 20)

        // Every node fills its table with other nodes from the contacts the
        // router hands out, and the "knows" graph joins everyone: from any
        // node, following routing tables reaches all twenty (which is what
        // lookups walk). (A node stops bootstrapping at 8 table entries, the
        // router being one of them.)
        let addresses = nodes.map { $0.listeningAddresses[0] }
        var tables: [Set<NodeAddress>] = []
        var reach: [Int] = []
        _ = try await Waiting.pollAsync(timeout: 60, every: .milliseconds(500)) { () -> Bool? in
            tables = []
            for node in nodes { tables.append(Set(await Self.tableAddresses(node)).intersection(addresses)) }
            reach = Self.reach(tables, addresses: addresses)
            return tables.allSatisfy({ $0.count >= 6 }) && reach.allSatisfy({ $0 == nodes.count }) ? true : nil
        }
        #expect(tables.allSatisfy { $0.count >= 6 }, "other nodes in each table: \(tables.map(\.count))")
        #expect(reach.allSatisfy { $0 == nodes.count }, "nodes reachable from each node: \(reach)")

        for node in nodes { await node.shutdown() }
        try await group.shutdownGracefully()
        router.child.signal(SIGTERM)
        let result = await router.child.wait(timeout: 10)
        #expect(result.status == 0)
    }

    /// For each node, how many nodes (itself included) it reaches through routing tables.
    private static func reach(_ tables: [Set<NodeAddress>], addresses: [NodeAddress]) -> [Int] {
        let index = Dictionary(uniqueKeysWithValues: addresses.enumerated().map { ($1, $0) })
        return tables.indices.map { start in
            var reached: Set<Int> = [start]
            var frontier = [start]
            while let next = frontier.popLast() {
                for address in tables[next] { if let other = index[address], reached.insert(other).inserted { frontier.append(other) } }
            }
            return reached.count
        }
    }

    /// The addresses in a node's IPv4 routing table.
    private static func tableAddresses(_ node: DHTNode) async -> [NodeAddress] {
        (try? await node.eventLoop.submit {
            node.engine.value.core.routingTable(for: .v4)?.entries.map(\.contact.address) ?? []
        }.get()) ?? []
    }

    @Test func contactsSurviveSigtermAndKillNine() async throws {
        let state = try TemporaryDirectory("bf-router-restart")
        var router = try await RouterProcess.start(stateDirectory: state.path)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var nodes: [DHTNode] = []
        for _ in 0..<6 { nodes.append(try await DHTNode.start(nodeConfiguration(router: router.address, group: group))) }
        let addresses = Set(nodes.flatMap(\.listeningAddresses))
        _ = try await router.waitForMetrics(timeout: 30) { $0["bitfountain_router_contacts{family=\"ipv4\"}"] ?? 0 >= 6 }
        for node in nodes { await node.shutdown() }
        try await group.shutdownGracefully()

        // SIGTERM: flushed, exit 0 within 2 s.
        let stopping = Date()
        router.child.signal(SIGTERM)
        let stopped = await router.child.wait(timeout: 10)
        #expect(stopped.status == 0 && !stopped.timedOut)
        #expect(Date().timeIntervalSince(stopping) < 2, "SIGTERM took \(Date().timeIntervalSince(stopping)) s")
        #expect(JSONLines.event("stopped", in: stopped.stdout)?["contacts"] as? Int == 6)

        // Restarted: the saved contacts are served within a second.
        router = try await RouterProcess.start(stateDirectory: state.path)
        try await expectServes(addresses, router: router)

        // kill -9 (nothing flushed by the process), then restart: still there.
        router.child.signal(SIGKILL)
        _ = await router.child.wait(timeout: 10)
        router = try await RouterProcess.start(stateDirectory: state.path)
        try await expectServes(addresses, router: router)
        router.child.signal(SIGTERM)
        _ = await router.child.wait(timeout: 10)
    }

    private func expectServes(_ addresses: Set<NodeAddress>, router: RouterProcess) async throws {
        let started = Date()
        var served: [NodeContact] = []
        var attempt: UInt32 = 0
        while Set(served.map(\.address)) != addresses, Date().timeIntervalSince(started) < 5 {
            attempt += 1
            // A new socket each time: a requester seen before would get 3 contacts, not 8.
            let probe = try KRPCProbe()
            if case .response(let response)? = probe.findNode(router.address, timeout: 0.1, transactionID: attempt)?.body {
                served = response.nodes
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(Set(served.map(\.address)) == addresses, "served \(served)")
        #expect(elapsed < 1, "first reply with all saved contacts after \(elapsed) s")
    }

    @Test func aFloodOfMalformedPacketsLeavesItAnswering() async throws {
        let state = try TemporaryDirectory("bf-router-flood")
        let router = try await RouterProcess.start(stateDirectory: state.path)
        var random = SeededRandom(seed: 1)
        let id = String(repeating: "i", count: 20)
        let shapes: [[UInt8]] = [
            [], Array("d".utf8), Array("de".utf8), Array("i1e".utf8), Array("le".utf8),
            Array("d1:t2:ab1:y1:qe".utf8),                                            // query without q or a
            Array("d1:ad2:id3:abce1:q4:ping1:t2:xx1:y1:qe".utf8),                      // short id
            Array("d1:ad2:id20:\(id)e1:q9:find_node1:t2:xx1:y1:qe".utf8),              // find_node without target
            Array("d1:rd2:id20:\(id)e1:t8:AAAAAAAA1:y1:re".utf8),                      // pong with a forged cookie
            Array("d1:eli201e3:bade1:t2:xx1:y1:ee".utf8),
            Array(repeating: UInt8(ascii: "l"), count: 1_000),                        // deep nesting
            Array("d1:t99999:x".utf8),                                                // length past the end
            [UInt8](repeating: 0, count: 1_400),
        ]
        // 40 sockets (each a separate "node" on loopback), 500 packets each: shapes and random bytes.
        var probes: [KRPCProbe] = []
        for _ in 0..<40 { probes.append(try KRPCProbe()) }
        for probe in probes {
            var packets: [[UInt8]] = []
            for index in 0..<500 {
                if index % 2 == 0 {
                    packets.append(shapes[index / 2 % shapes.count])
                } else {
                    packets.append((0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
                }
            }
            probe.send(packets, to: router.address)
        }
        // Still answering, and it says what it dropped.
        let fresh = try KRPCProbe()
        let reply = fresh.findNode(router.address, timeout: 2, transactionID: 4242)
        guard case .response? = reply?.body else {
            Issue.record("no answer after the flood; stderr: \(router.child.stderr.suffix(500))")
            return
        }
        let metrics = try await router.waitForMetrics(timeout: 5) { $0["bitfountain_router_dropped_total{reason=\"malformed\"}"] ?? 0 > 1_000 }
        #expect(metrics["bitfountain_router_dropped_total{reason=\"malformed\"}"] ?? 0 > 1_000, "\(metrics)")
        #expect(metrics["bitfountain_router_dropped_total{reason=\"bad_cookie\"}"] ?? 0 > 0)
        #expect(metrics["bitfountain_router_error_replies_total"] ?? 0 > 0, "malformed queries with a t get error 203")
        #expect(router.child.isRunning)
        router.child.signal(SIGTERM)
        let result = await router.child.wait(timeout: 10)
        #expect(result.status == 0)
    }

    @Test func badArgumentsAreRefusedClearly() async throws {
        let capacity = try await ChildProcess.bitfountain(["router", "--capacity", "20000000"], timeout: 20)
        #expect(capacity.status != 0)
        #expect(capacity.stderr.contains("--capacity"))
        let bind = try await ChildProcess.bitfountain(["router", "--bind", "localhost"], timeout: 20)
        #expect(bind.status != 0)
        #expect(bind.stderr.contains("--bind"))
        // Two routers on one state directory: the second is refused.
        let state = try TemporaryDirectory("bf-router-lock")
        let first = try await RouterProcess.start(stateDirectory: state.path)
        let second = try await ChildProcess.bitfountain(["router", "--bind", "127.0.0.1", "--port", "0", "--state-dir", state.path],
                                                        timeout: 20)
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use"), "\(second.stderr)")
        first.child.signal(SIGTERM)
        _ = await first.child.wait(timeout: 10)
        let help = try await ChildProcess.bitfountain(["router", "--help"], timeout: 20)
        #expect(help.stdout.contains("--admit-delay") && help.stdout.contains("Examples"))
    }
}
