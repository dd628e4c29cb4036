import Foundation
import Testing
import TestSupport

/// The listening rule of the original client: 6881, else the next free port up to 6889.
@Suite(.serialized) struct SwarmListenPortTests {
    @Test func takesTheNextFreePortAfter6881() async throws {
        let work = try TemporaryDirectory("bf-port")
        try Swarm.writeRandomFile(work.file("p.bin"), size: 50_000)
        // Hold 6881 if it is free, so the rule has to move on; if someone else holds it, same effect.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(6881).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        _ = listen(holder, 1)

        let seed = try ChildProcess(Paths.binary, ["seed", work.file("p.bin"), "--bind", "127.0.0.1", "--json", "--state-dir", work.file("state")])
        defer { seed.signal(SIGKILL) }
        let line = try await seed.waitForLine(timeout: 30) { $0.contains("\"listening\"") }
        let port = JSONLines.event("listening", in: line)?["port"] as? Int ?? 0
        #expect((6882...6889).contains(port), "listening on \(port)")
    }
}
