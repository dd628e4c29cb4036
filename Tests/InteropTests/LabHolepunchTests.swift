import Foundation
import Testing
import TestSupport

/// Holepunching (BEP 55) on an emulated Internet (scripts/interop/holepunch_lab.py):
/// a seed behind one home router's NAT and a downloader behind another, with no
/// port mapping, both connected to a relay on the open network that cannot
/// itself supply the file; the downloader asks the relay for a rendezvous, both
/// dial each other over uTP at once, and most of the file arrives straight from
/// the seed's home. The relay is BitFountain, then libtorrent 2.0.8 (which
/// introduces a peer only by the endpoint of its connection to it: the
/// script's docstring). Needs root (network namespaces), as CI has.
/// One lab at a time: two on the two cores would slow both past what their timings assume.
@Suite(.serialized) struct LabHolepunchTests {
    @Test func twoPeersBehindNATsMeetThroughARelayAndComplete() async throws {
        try await runLab(relay: "bitfountain")
    }

    @Test func twoPeersBehindNATsMeetThroughALibtorrentRelayAndComplete() async throws {
        try await runLab(relay: "libtorrent")
    }

    private func runLab(relay: String) async throws {
        let work = try TemporaryDirectory("bf-holepunch-\(relay)")
        let result = try await LabDriver.run("holepunch_lab.py", ["--relay", relay], work: work, bound: 240)
        #expect(result.succeeded, "\(result.stdout.suffix(4000))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("holepunch: passed"), "\(result.stdout.suffix(4000))")
    }
}
