import Identity

/// BEP 51 sample_infohashes toward a target: every node on the way returns a
/// random sample of the infohashes it stores; new ones are reported as they come.
struct SampleInfohashesTraversal: Traversal {
    let operation: DHTOperation
    let family: IPAddress.Family
    var lookup: Lookup
    var counters: TraversalCounters
    private var seen: Set<NodeID> = []

    static let maxSamplesKept = 20_000

    init(operation: DHTOperation, family: IPAddress.Family, lookup: Lookup, now: DHTInstant) {
        self.operation = operation
        self.family = family
        self.lookup = lookup
        self.counters = TraversalCounters(startedAt: now)
    }

    var isFinished: Bool { lookup.isFinished }

    mutating func nextQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery] {
        let target = lookup.target
        let out = lookup.nextQueries().map {
            TraversalQuery(address: $0, query: .sampleInfohashes(id: ownID, target: target, want: want))
        }
        counters.queriesSent += out.count
        return out
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        counters.responses += 1
        lookup.answered(address, id: response.id, tier: tier, token: nil)
        lookup.offer(family == .v4 ? response.nodes : response.nodes6, excluding: ownID)
        let fresh = response.samples.filter { seen.count < Self.maxSamplesKept && seen.insert($0).inserted }
        events.append(.samples(operation, SampleReply(from: NodeContact(id: response.id, address: address), tier: tier,
                                                      samples: fresh, num: response.num, interval: response.interval)))
    }

    mutating func handleSlow(_ address: NodeAddress) { lookup.slow(address) }
    mutating func handleFailure(_ address: NodeAddress) { lookup.failed(address) }

    func summary(now: DHTInstant) -> TraversalSummary {
        var summary = TraversalSummary(kind: .sampleInfohashes, target: lookup.target, family: family, counters: counters, now: now)
        summary.closest = lookup.preferredClosest().map { TraversalSummary.Node(contact: $0.contact, tier: $0.tier) }
        summary.samples = seen.count
        return summary
    }
}
