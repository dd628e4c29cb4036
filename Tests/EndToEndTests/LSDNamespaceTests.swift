import BitFountain
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Local Service Discovery (BEP 14) between two `bitfountain` processes on two
/// hosts of one LAN, with no DHT and no `--peer`: the only way they can meet is
/// the multicast announce. The LAN is two network namespaces joined by a veth
/// pair that this test creates and deletes; nothing it sends leaves them.
@Suite(.serialized) struct LSDNamespaceTests {
    @Test func groupsFollowTheBindAddress() {
        let both = ["239.192.152.143", "ff15::efc0:988f"]
        #expect(LocalServiceDiscovery.groups(forBindHost: "0.0.0.0").map(\.address) == both)
        #expect(LocalServiceDiscovery.groups(forBindHost: "::").map(\.address) == both)
        #expect(LocalServiceDiscovery.groups(forBindHost: "10.1.2.3").map(\.address) == [both[0]])
        #expect(LocalServiceDiscovery.groups(forBindHost: "fd00::1").map(\.address) == [both[1]])
        // Loopback has no multicast route by default and is unreachable from the LAN.
        #expect(LocalServiceDiscovery.groups(forBindHost: "127.0.0.1").isEmpty)
        #expect(LocalServiceDiscovery.groups(forBindHost: "127.0.0.2").isEmpty)
        #expect(LocalServiceDiscovery.groups(forBindHost: "::1").isEmpty)
        #expect(LocalServiceDiscovery.groups(forBindHost: "localhost").isEmpty)
    }

    /// The seed starts first and announces to nobody; `get` starts next and
    /// announces; the seed, hearing a newcomer, announces again as soon as its
    /// once-a-minute limit allows (not at its regular five minutes: `get`'s
    /// 150 s timeout would run out), and `get` dials it.
    @Test func twoHostsOnALANFindEachOtherWithoutDHT() async throws {
        try #require(getuid() == 0, """
            this test builds a LAN of network namespaces (ip netns), which needs root; \
            CI runs it as root. Run it as root: it cannot pass without the namespaces.
            """)
        let lan = try await NamespaceLAN.create("l")
        defer { lan.destroy() }
        let work = try TemporaryDirectory("bf-lsd")
        let content = try Swarm.writeRandomFile(work.file("lan.bin"), size: 1_500_000)

        let seed = try ChildProcess("/usr/sbin/ip", lan.exec(1, [Paths.binary, "seed", work.file("lan.bin"), "--bind", "0.0.0.0",
                                                                  "--port", "0", "--no-dht", "--json", "--state-dir", work.file("seed-state")]))
        defer { seed.signal(SIGKILL) }
        let seeding = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        let infoHash = try #require(JSONLines.event("seeding", in: seeding)?["infohash"] as? String)
        #expect(!seed.stderr.contains("local service discovery"), "LSD came up: \(seed.stderr)")

        // A bare infohash: no x.pe, no --peer, no DHT.
        let get = try ChildProcess("/usr/sbin/ip", lan.exec(0, [Paths.binary, "get", "magnet:?xt=urn:btih:\(infoHash)",
                                                                 "-o", work.file("out"), "--bind", "0.0.0.0", "--port", "0", "--no-dht",
                                                                 "--json", "--state-dir", work.file("get-state"), "--timeout", "150"]))
        defer { get.signal(SIGKILL) }
        let result = await get.wait(timeout: 180)
        #expect(result.status == 0, "get: \(result.stderr.suffix(3000)); seed: \(seed.stderr.suffix(2000))")
        #expect(FileManager.default.contents(atPath: work.file("out/lan.bin")) == content)
        let complete = JSONLines.objects(result.stdout).last
        #expect(complete?["event"] as? String == "complete")
        #expect(complete?["peers"] as? Int == 1)

        seed.signal(SIGTERM)
        #expect(await seed.wait(timeout: 20).status == 0, "seed stops cleanly: \(seed.stderr.suffix(2000))")
    }
}

/// Two hosts, 10.203.0.1 and 10.203.0.2, each in its own network namespace,
/// joined by a veth pair, with a multicast route (224.0.0.0/4) on the link
/// and no other route: nothing can leave. Names carry our PID, so parallel
/// runs do not collide, `destroy` deletes them by name, and the LANs of a test
/// process that died before it could are swept by the next one (`StaleNamespaces`).
struct NamespaceLAN {
    static let prefix = "bf-lan-"
    let namespaces: [String]
    let addresses = ["10.203.0.1", "10.203.0.2"]

    /// `name` (one letter) keeps the LANs of tests that run at once apart.
    static func create(_ name: Character) async throws -> NamespaceLAN {
        _ = sweptOnce
        // The whole PID (a link name has room: "bf" + at most 7 digits + 2 letters),
        // so the sweep can tell whose LAN this is.
        let tag = "\(getpid())\(name)"
        let lan = NamespaceLAN(namespaces: ["\(prefix)\(tag)-a", "\(prefix)\(tag)-b"])
        let links = ["bf\(tag)a", "bf\(tag)b"]
        do {
            for namespace in lan.namespaces { try await ip(["netns", "add", namespace]) }
            try await ip(["-n", lan.namespaces[0], "link", "add", links[0], "type", "veth",
                          "peer", "name", links[1], "netns", lan.namespaces[1]])
            for index in 0..<2 {
                let namespace = lan.namespaces[index]
                try await ip(["-n", namespace, "link", "set", "lo", "up"])
                try await ip(["-n", namespace, "addr", "add", "\(lan.addresses[index])/24", "dev", links[index]])
                try await ip(["-n", namespace, "link", "set", links[index], "up"])
                try await ip(["-n", namespace, "route", "add", "224.0.0.0/4", "dev", links[index]])
            }
        } catch {
            lan.destroy()
            throw error
        }
        return lan
    }

    /// `ip netns exec` replaces itself with the command, so the child's PID is the command's.
    func exec(_ host: Int, _ command: [String]) -> [String] {
        ["netns", "exec", namespaces[host]] + command
    }

    /// Deletes both namespaces (the veth pair goes with them). Synchronous, so
    /// it can run from `defer` even when the test failed.
    func destroy() {
        for namespace in namespaces { StaleNamespaces.delete(namespace) }
    }

    /// The LANs of test processes that are gone, swept once per process before its first LAN.
    private static let sweptOnce: Void = { _ = StaleNamespaces.sweep(prefix: prefix) }()

    struct SetupFailure: Error, CustomStringConvertible {
        let description: String
    }

    static func ip(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run("/usr/sbin/ip", arguments, timeout: 10)
        guard result.status == 0 else {
            throw SetupFailure(description: "ip \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }
}
