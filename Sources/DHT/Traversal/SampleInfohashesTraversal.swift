import Identity

/// BEP 51 sample_infohashes toward a target: every node on the way returns a
/// random sample of the infohashes it stores; new ones are reported as they come.
struct SampleInfohashesTraversal: LookupTraversal {
    var state: LookupState
    private var seen: Set<NodeID> = []

    static let maxSamplesKept = 20_000

    init(operation: DHTOperation, family: IPAddress.Family, lookup: Lookup, now: DHTInstant) {
        state = LookupState(operation: operation, family: family, lookup: lookup, now: now)
    }

    func query(ownID: NodeID, target: NodeID, want: WantedFamilies) -> KRPCQuery {
        .sampleInfohashes(id: ownID, target: target, want: want)
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        absorb(response, from: address, tier: tier, ownID: ownID)
        let fresh = response.samples.filter { seen.count < Self.maxSamplesKept && seen.insert($0).inserted }
        events.append(.samples(operation, SampleReply(from: NodeContact(id: response.id, address: address), tier: tier,
                                                      samples: fresh, num: response.num, interval: response.interval)))
    }

    func summary(now: DHTInstant) -> TraversalSummary {
        var summary = baseSummary(kind: .sampleInfohashes, now: now)
        summary.samples = seen.count
        return summary
    }
}
