import Foundation
import Testing
@testable import DHT

@Suite struct SimulationTests {
    @Test func smallNetworkFindsAnnouncedPeer() {
        var scenario = SimulationScenario()
        scenario.nodes = Int(ProcessInfo.processInfo.environment["BF_SIM_NODES"] ?? "") ?? 200
        scenario.lookups = Int(ProcessInfo.processInfo.environment["BF_SIM_LOOKUPS"] ?? "") ?? 30
        let clock = ContinuousClock()
        let start = clock.now
        let report = scenario.run { print($0) }
        print("sim: \(report) wall \(clock.now - start)")
        #expect(report.successRate >= 0.99)
    }
}
