import Identity

/// The standard DHT experiment (issue 3, item 9): grow a network of `nodes`
/// nodes, announce one peer, then run get_peers for it from `lookups` random
/// start nodes while `churn` of the network leaves and as many newcomers join.
/// Shared by the unit test and `scripts/bench dht` so both measure the same thing.
public struct SimulationScenario: Sendable {
    public var nodes = 2_000
    public var lookups = 100
    /// Fraction of nodes replaced during the lookup phase.
    public var churn = 0.10
    /// Nodes join spread over this long.
    public var joinDuration: DHTDuration = .seconds(60)
    /// Quiet time after the last join, before the announce.
    public var settleDuration: DHTDuration = .seconds(120)
    /// A new lookup starts this often.
    public var lookupSpacing: DHTDuration = .milliseconds(100)
    public var settings = NetworkSimulator.Settings()

    public init() {}

    public struct Report: Sendable {
        public var nodes: Int
        public var lookups: Int
        public var successes: Int
        public var successRate: Double { lookups == 0 ? 0 : Double(successes) / Double(lookups) }
        /// Queries the lookup sent, per lookup (median, 90th percentile).
        public var medianMessages: Double
        public var p90Messages: Double
        /// Virtual time from start to first seeing the announced peer.
        public var medianLatencyToPeer: DHTDuration
        /// Virtual time until the lookup finished.
        public var medianLookupDuration: DHTDuration
        public var announcedTo: Int
        public var medianTableSize: Double
        public var verifiedShare: Double
        public var datagramsSent: Int
        public var virtualTime: DHTDuration
    }

    public func run(log: (String) -> Void = { _ in }) -> Report {
        var sim = NetworkSimulator(settings: settings)
        sim.addNode(bootstrap: [])
        for index in 1..<nodes {
            sim.run(until: DHTInstant(nanoseconds: joinDuration.nanoseconds / UInt64(nodes) * UInt64(index)))
            let earlier = (0..<3).map { _ in sim.address(of: sim.randomIndex(below: index)) }
            sim.addNode(bootstrap: earlier)
        }
        log("joined \(nodes) nodes at \(sim.now); \(sim.datagramsSent) datagrams so far")
        sim.run(for: settleDuration)

        // Announce one peer.
        let alive = sim.aliveNodes
        let announcer = alive[sim.randomIndex(below: alive.count)]
        let infoHash = sim.randomID()
        let peer = NodeAddress(ip: sim.address(of: announcer).ip, port: 7_000)
        sim.watch(announcer)
        let announceOperation = sim.with(announcer) { core, now in core.getPeers(infoHash, family: .v4, announce: .port(7_000), now: now) }
        var announcedTo = 0
        sim.run(for: .seconds(120)) { sim in
            for timed in sim.takeEvents(announcer) {
                if case .finished(announceOperation, let summary) = timed.event { announcedTo = summary.announcedTo; return true }
            }
            return false
        }
        log("announced to \(announcedTo) nodes at \(sim.now)")

        // Lookups from random nodes, with churn spread over the same period.
        let churnCount = Int(Double(nodes) * churn)
        let lookupPhase = DHTDuration(nanoseconds: lookupSpacing.nanoseconds * UInt64(lookups))
        let churnSpacing = churnCount == 0 ? lookupPhase : DHTDuration(nanoseconds: lookupPhase.nanoseconds / UInt64(churnCount))
        var nextChurn = sim.now
        var churned = 0
        // Operation numbers are per node, so a lookup is named by both.
        struct LookupKey: Hashable { var node: Int; var operation: DHTOperation }
        var running: [LookupKey: DHTInstant] = [:]
        var foundAt: [LookupKey: DHTInstant] = [:]
        var summaries: [LookupKey: TraversalSummary] = [:]
        var launched: [LookupKey: DHTInstant] = [:]
        var started = 0
        var nextLookup = sim.now
        let phaseEnd = sim.now + lookupPhase + .seconds(120)
        while (started < lookups || !running.isEmpty), sim.now < phaseEnd {
            if started < lookups, sim.now >= nextLookup {
                let candidates = sim.aliveNodes.filter { $0 != announcer }
                let start = candidates[sim.randomIndex(below: candidates.count)]
                sim.watch(start)
                let operation = sim.with(start) { core, now in core.getPeers(infoHash, family: .v4, now: now) }
                running[LookupKey(node: start, operation: operation)] = sim.now
                launched[LookupKey(node: start, operation: operation)] = sim.now
                started += 1
                nextLookup = sim.now + lookupSpacing
            }
            while churned < churnCount, sim.now >= nextChurn {
                let busy = Set(running.keys.map(\.node))
                let candidates = sim.aliveNodes.filter { $0 != announcer && !busy.contains($0) }
                sim.remove(candidates[sim.randomIndex(below: candidates.count)])
                let seeds = (0..<3).map { _ in sim.address(of: candidates[sim.randomIndex(below: candidates.count)]) }
                sim.addNode(bootstrap: seeds)
                churned += 1
                nextChurn = nextChurn + churnSpacing
            }
            sim.run(for: .milliseconds(10))
            for (key, _) in running {
                for timed in sim.takeEvents(key.node) {
                    let time = timed.time
                    switch timed.event {
                    case .peers(let operation, let found) where found.contains(peer):
                        let lookup = LookupKey(node: key.node, operation: operation)
                        if foundAt[lookup] == nil { foundAt[lookup] = time }
                    case .finished(let operation, let summary):
                        summaries[LookupKey(node: key.node, operation: operation)] = summary
                    default:
                        break
                    }
                }
                if summaries[key] != nil { running[key] = nil }
            }
        }

        let messages = summaries.values.map { Double($0.queriesSent) }
        let durations = summaries.values.map(\.duration.seconds)
        let latencies = foundAt.map { key, time in time.since(launched[key]!).seconds }
        var tableSizes: [Double] = []
        var verified = 0, total = 0
        for index in sim.aliveNodes {
            guard let summary = sim.core(index).routingTable(for: .v4)?.summary(now: sim.now) else { continue }
            tableSizes.append(Double(summary.nodes))
            verified += summary.verified
            total += summary.nodes
        }
        return Report(nodes: nodes, lookups: lookups, successes: foundAt.count,
                      medianMessages: Self.percentile(messages, 0.5), p90Messages: Self.percentile(messages, 0.9),
                      medianLatencyToPeer: .seconds(Self.percentile(latencies, 0.5)),
                      medianLookupDuration: .seconds(Self.percentile(durations, 0.5)), announcedTo: announcedTo,
                      medianTableSize: Self.percentile(tableSizes, 0.5),
                      verifiedShare: total == 0 ? 0 : Double(verified) / Double(total),
                      datagramsSent: sim.datagramsSent, virtualTime: sim.now.since(.zero))
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
    }
}
