import Foundation
import Testing
import TestSupport

/// Peer exchange (BEP 11) with libtorrent 2.0.8 and Transmission 3.00 on the
/// lab (scripts/interop/pex_lab.py), with no DHT anywhere: a node given one
/// peer finds the others through ut_pex. Both ways: `bitfountain get` learns a
/// seed from each stock client's PEX and downloads from it, and each stock
/// client learns a seed from ours and downloads from it; sha256 checked, and
/// where the bytes came from counted. Needs root (network namespaces), as CI has.
@Suite struct LabPeerExchangeTests {
    /// pex_lab.py's own bound per cell; the cells run at once. 300 s, the
    /// matrix's bound for Transmission: when only Transmission may dial (the
    /// seed's host refuses to dial it), Transmission 3.00 can take one more of
    /// its 90 s PEX rounds and a reconnect pulse before it does (144 s seen).
    static let cellTimeout = 300

    @Test func aNodeThatKnowsOnePeerFindsTheOthersThroughPEXBothWays() async throws {
        let work = try TemporaryDirectory("bf-pex")
        let result = try await LabDriver.run("pex_lab.py", ["--cell-timeout", String(Self.cellTimeout)], work: work,
                                             bound: Double(Self.cellTimeout + 150))
        #expect(result.status == 0 && result.stdout.contains("pex lab: passed"),
                "\(result.stdout.suffix(6000))\n\(result.stderr.suffix(2000))")
        print(result.stdout.suffix(3000))  // each cell's time and evidence, into the CI log
    }
}
