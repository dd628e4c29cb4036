import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `bitfountain seed` on a host whose default route leads to a NAT-PMP
/// gateway (a small Python responder on the other host of a namespace LAN):
/// it maps its TCP port, reports the external address and the mapping, and
/// deletes the mapping when it stops.
@Suite(.serialized) struct PortMappingNamespaceTests {
    /// Speaks NAT-PMP only (PCP gets "unsupported version"); grants every mapping for an hour
    /// on port + 1000; says 203.0.113.5; prints each request in hex.
    static let gateway = """
        import socket, struct, sys, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((sys.argv[1], 5351))
        s.settimeout(0.5)
        print("ready", flush=True)
        end = time.time() + float(sys.argv[2])
        while time.time() < end:
            try:
                data, peer = s.recvfrom(64)
            except socket.timeout:
                continue
            print("request " + data.hex(), flush=True)
            if data and data[0] != 0:
                # A NAT-PMP-only gateway answers a PCP request (version 2) with
                # "unsupported version", as RFC 6886 section 3.5 requires.
                s.sendto(struct.pack(">BBHI", 0, 128 + (data[1] & 0x7f), 1, 50), peer)
            elif data == b"\\0\\0":
                s.sendto(struct.pack(">BBHI4B", 0, 128, 0, 50, 203, 0, 113, 5), peer)
            elif len(data) == 12 and data[0] == 0 and data[1] in (1, 2):
                _, op, _, inner, _, lifetime = struct.unpack(">BBHHHI", data)
                granted = 3600 if lifetime else 0
                s.sendto(struct.pack(">BBHIHHI", 0, 128 + op, 0, 50, inner, inner + 1000 if lifetime else 0, granted), peer)
        """

    @Test func seedMapsItsPortReportsItAndDeletesItAtExit() async throws {
        try #require(getuid() == 0, """
            this test builds a LAN of network namespaces (ip netns), which needs root; \
            CI runs it as root. Run it as root: it cannot pass without the namespaces.
            """)
        let lan = try await NamespaceLAN.create("p")
        defer { lan.destroy() }
        try await NamespaceLAN.ip(["-n", lan.namespaces[0], "route", "add", "default", "via", lan.addresses[1]])
        let work = try TemporaryDirectory("bf-natpmp")
        try Swarm.writeRandomFile(work.file("f.bin"), size: 100_000)

        let gateway = try ChildProcess("/usr/sbin/ip", lan.exec(1, [Paths.systemPython, "-c", Self.gateway, lan.addresses[1], "60"]))
        defer { gateway.signal(SIGKILL) }
        _ = try await gateway.waitForLine(timeout: 10) { $0 == "ready" }

        let seed = try ChildProcess("/usr/sbin/ip", lan.exec(0, [Paths.binary, "seed", work.file("f.bin"), "--bind", "0.0.0.0", "--port", "0",
                                                                  "--no-dht", "--no-lsd", "--json", "--state-dir", work.file("state")]))
        defer { seed.signal(SIGKILL) }
        let listening = try await seed.waitForLine(timeout: 30) { $0.contains("\"listening\"") }
        let port = try #require(JSONLines.event("listening", in: listening)?["port"] as? Int)
        _ = try await seed.waitForLine(timeout: 10) { $0.contains("\"external_port\"") }
        _ = try await seed.waitForLine(timeout: 10) { $0.contains("\"external_address\"") }
        let mappings = JSONLines.objects(seed.stdout).filter { $0["event"] as? String == "port_mapping" }
        #expect(mappings.contains { $0["external_address"] as? String == "203.0.113.5" })
        #expect(mappings.contains {
            $0["transport"] as? String == "tcp" && $0["internal_port"] as? Int == port && $0["external_port"] as? Int == port + 1000
        }, "\(mappings)")
        #expect(!mappings.contains { $0["transport"] as? String == "udp" }, "no DHT, so no UDP port to map")

        // Stop only once it seeds: it handles SIGTERM from then on.
        _ = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        seed.signal(SIGTERM)
        #expect(await seed.wait(timeout: 20).status == 0, "\(seed.stderr)")
        let portHex = String(format: "%04x", port)
        try await Task.sleep(for: .milliseconds(500))
        #expect(gateway.stdoutLines.contains("request 00020000\(portHex)000000000000"), "deleted at exit: \(gateway.stdout)")
    }
}
