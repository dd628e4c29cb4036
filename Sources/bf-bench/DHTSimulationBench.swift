import ArgumentParser
import DHT
import Foundation

/// `bf-bench dht-sim`: the 10,000-node simulation of issue 3 (item 12a).
struct DHTSimulationBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht-sim",
        abstract: "Simulated DHT: grow a network, announce, look up from random nodes under loss and churn.",
        discussion: "Example: bf-bench dht-sim --nodes 10000 --lookups 500"
    )

    @Option(help: "Nodes in the network.") var nodes = 10_000
    @Option(help: "get_peers lookups from random start nodes.") var lookups = 500
    @Option(help: "Fraction of nodes replaced during the lookups.") var churn = 0.10
    @Option(help: "Datagram loss rate.") var loss = 0.01
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Flag(help: "Real ed25519 signatures instead of the simulation stand-in (much slower).") var realSignatures = false

    func run() throws {
        var scenario = SimulationScenario()
        scenario.nodes = nodes
        scenario.lookups = lookups
        scenario.churn = churn
        scenario.settings.loss = loss
        scenario.settings.seed = seed
        scenario.settings.realSignatures = realSignatures
        // Joining takes longer in a larger network; keep the arrival rate of the unit test (about 33 nodes/s).
        scenario.joinDuration = .seconds(Double(nodes) / 33)
        let clock = ContinuousClock()
        let start = clock.now
        let report = scenario.run { print("  \($0)") }
        let wall = clock.now - start
        print(String(format: "nodes %d, lookups %d, loss %.0f %%, churn %.0f %%, latency 20–200 ms one way", report.nodes,
                     report.lookups, loss * 100, churn * 100))
        print(String(format: "found the announced peer from %.1f %% of start nodes (%d/%d)", report.successRate * 100,
                     report.successes, report.lookups))
        print(String(format: "messages per lookup: median %.0f, p90 %.0f", report.medianMessages, report.p90Messages))
        print(String(format: "virtual latency: median %.0f ms to the peer, %.0f ms to the end of the lookup",
                     report.medianLatencyToPeer.milliseconds, report.medianLookupDuration.milliseconds))
        print(String(format: "announce stored on %d nodes; median routing table %.0f nodes; %d datagrams; %.0f s virtual, %@ wall",
                     report.announcedTo, report.medianTableSize, report.datagramsSent, report.virtualTime.seconds,
                     "\(wall)"))
    }
}
