import Foundation
import Testing
import TestSupport

/// Holepunching (BEP 55) on an emulated Internet (scripts/interop/holepunch_lab.py):
/// a seed behind one home router's NAT and a downloader behind another, with no
/// port mapping, both connected to a relay on the open network that cannot
/// itself supply the file; the downloader asks the relay for a rendezvous, both
/// dial each other over uTP at once, and most of the file arrives straight from
/// the seed's home. The relay is BitFountain. Needs root (network namespaces), as CI has.
///
/// The script's `--relay libtorrent` (libtorrent 2.0.8 as the relay) passed 12 of 14 lab
/// runs; in the other two the seed's uTP connection to libtorrent stalled before it read the
/// relay's `connect` (not yet explained: the script's docstring). It stays out of CI until
/// that is found, rather than fail one CI run in seven.
@Suite struct LabHolepunchTests {
    @Test func twoPeersBehindNATsMeetThroughARelayAndComplete() async throws {
        try await runLab(relay: "bitfountain")
    }

    private func runLab(relay: String) async throws {
        let work = try TemporaryDirectory("bf-holepunch-\(relay)")
        let result = try await LabDriver.run("holepunch_lab.py", ["--relay", relay], work: work, bound: 240)
        #expect(result.succeeded, "\(result.stdout.suffix(4000))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("holepunch: passed"), "\(result.stdout.suffix(4000))")
    }
}
