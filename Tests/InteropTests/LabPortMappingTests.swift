import Foundation
import Testing
import TestSupport

/// Port mapping on an emulated home router (scripts/interop/portmap_lab.py):
/// miniupnpd runs in the lab's home-router namespace, `bitfountain seed`
/// behind it maps its TCP and UDP ports, a downloader outside that cannot be
/// dialled completes by magnet over the lab DHT, and the mappings are gone
/// once the seed exited. Once by PCP (what miniupnpd answers first) and once
/// with NAT-PMP/PCP off in miniupnpd, so that the fallback to UPnP IGD maps.
/// Needs root (network namespaces), as CI has.
@Suite struct LabPortMappingTests {
    @Test(arguments: ["pcp", "upnp"])
    func aSeedBehindAHomeRouterIsReachableThroughTheMappingItMade(_ protocolName: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/miniupnpd"),
                     "miniupnpd is not installed: run scripts/setup (Debian's miniupnpd-nftables)")
        let work = try TemporaryDirectory("bf-portmap")
        let result = try await LabDriver.run("portmap_lab.py", ["--protocol", protocolName], work: work, bound: 240)
        #expect(result.succeeded, "\(result.stdout.suffix(4000))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("portmap: passed"), "\(result.stdout.suffix(4000))")
    }
}
