import Foundation
import Testing
import TestSupport
@testable import DHT

/// Issue 3, item 9: 2,000 simulated nodes on virtual time (1 % loss, 20–200 ms
/// one-way latency, 10 % churn during the lookups). The 10,000-node run is
/// `scripts/bench dht`. BF_SIM_NODES / BF_SIM_LOOKUPS override the sizes.
@Suite(.cpuBound) struct SimulationTests {
    @Test func getPeersFindsTheAnnouncedPeerFromAlmostEveryStartNode() {
        var scenario = SimulationScenario()
        scenario.nodes = Int(ProcessInfo.processInfo.environment["BF_SIM_NODES"] ?? "") ?? 2_000
        scenario.lookups = Int(ProcessInfo.processInfo.environment["BF_SIM_LOOKUPS"] ?? "") ?? 100
        let report = scenario.run()
        print("""
            simulation: \(report.nodes) nodes, \(report.lookups) lookups, success \(report.successRate * 100) %, \
            median \(report.medianMessages) messages (p90 \(report.p90Messages)), \
            median \(Int(report.medianLatencyToPeer.milliseconds)) ms to the peer, \
            median lookup \(Int(report.medianLookupDuration.milliseconds)) ms, announced to \(report.announcedTo), \
            median table \(report.medianTableSize) nodes
            """)
        #expect(report.successRate >= 0.99)
        #expect(report.announcedTo >= 6)
        #expect(report.medianMessages < 40)
        #expect(report.medianTableSize >= 30)
        #expect(report.verifiedShare > 0.99, "every simulated node signs, so tables hold verified nodes only")
    }

    @Test func theSimulationIsDeterministic() {
        var scenario = SimulationScenario()
        scenario.nodes = 150
        scenario.lookups = 10
        let first = scenario.run()
        let second = scenario.run()
        #expect(first.datagramsSent == second.datagramsSent)
        #expect(first.medianMessages == second.medianMessages)
    }
}
