import Foundation
import Testing
import TestSupport

/// The namespaces of a test process that died are swept; a live process's stay.
@Suite struct StaleNamespacesTests {
    @Test func theOwnerPIDIsTheDigitsAfterThePrefixFollowedByATag() {
        #expect(StaleNamespaces.ownerPID(of: "bf-lan-12345l-a", prefix: "bf-lan-") == 12345)
        #expect(StaleNamespaces.ownerPID(of: "bf-lan-7p-b", prefix: "bf-lan-") == 7)
        #expect(StaleNamespaces.ownerPID(of: "bf-lan-12345", prefix: "bf-lan-") == nil)  // no tag: not a name tests make
        #expect(StaleNamespaces.ownerPID(of: "bf-lan-x1-a", prefix: "bf-lan-") == nil)
        #expect(StaleNamespaces.ownerPID(of: "bflab-ab12-host", prefix: "bf-lan-") == nil)
        #expect(StaleNamespaces.ownerPID(of: "bf-lan-99999999999x-a", prefix: "bf-lan-") == nil)  // past Int32
    }

    /// Needs root (network namespaces), as CI has.
    @Test(.enabled(if: getuid() == 0, "network namespaces need root"))
    func aDeadProcesssNamespaceAndItsLinksAreSweptALiveOnesIsKept() async throws {
        // A PID that was ours and is gone: a child that ran and was reaped.
        let finished = try ChildProcess("/bin/true", [])
        _ = await finished.wait(timeout: 30)
        let deadPID = finished.pid
        try #require(Paths.processIsGone(deadPID))
        let prefix = "bf-sweeptest-"
        let dead = ["\(prefix)\(deadPID)z-a", "\(prefix)\(deadPID)z-b"]
        let live = "\(prefix)\(getpid())y-a"
        defer { for name in dead + [live] { StaleNamespaces.delete(name) } }
        for name in dead + [live] { try await Self.ip(["netns", "add", name]) }
        // A veth pair between the dead process's two namespaces, as NamespaceLAN makes.
        let link = "bfs\(deadPID % 100_000)"
        try await Self.ip(["-n", dead[0], "link", "add", link + "a", "type", "veth", "peer", "name", link + "b", "netns", dead[1]])

        let swept = StaleNamespaces.sweep(prefix: prefix)

        #expect(Set(dead).isSubset(of: swept))  // (and any that an earlier, killed run of this test left)
        #expect(!swept.contains(live))
        let left = try FileManager.default.contentsOfDirectory(atPath: StaleNamespaces.directory)
        #expect(!left.contains(dead[0]) && !left.contains(dead[1]))
        #expect(left.contains(live), "the namespace of a live process (ours) was swept")
        // The veth pair went with its namespaces: no namespace holds it any more.
        let links = try await ChildProcess.run("/usr/sbin/ip", ["-o", "link", "show"], timeout: 10)
        #expect(!links.stdout.contains(link + "a") && !links.stdout.contains(link + "b"))
        let inLive = try await ChildProcess.run("/usr/sbin/ip", ["-n", live, "-o", "link", "show"], timeout: 10)
        #expect(inLive.succeeded && !inLive.stdout.contains(link))
    }

    static func ip(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run("/usr/sbin/ip", arguments, timeout: 10)
        try #require(result.succeeded, "ip \(arguments.joined(separator: " ")): \(result.stderr)")
    }
}
