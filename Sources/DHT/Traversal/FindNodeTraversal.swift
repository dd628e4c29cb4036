import Identity

/// find_node toward a target: joining the DHT (bootstrap: our own ID, seeded
/// with the bootstrap addresses) and `bitfountain dht find-node`.
struct FindNodeTraversal: Traversal {
    let operation: DHTOperation
    let family: IPAddress.Family
    let kind: TraversalSummary.Kind
    var lookup: Lookup
    var counters: TraversalCounters

    init(operation: DHTOperation, family: IPAddress.Family, kind: TraversalSummary.Kind, lookup: Lookup, now: DHTInstant) {
        self.operation = operation
        self.family = family
        self.kind = kind
        self.lookup = lookup
        self.counters = TraversalCounters(startedAt: now)
    }

    var isFinished: Bool { lookup.isFinished }

    mutating func nextQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery] {
        let target = lookup.target
        let out = lookup.nextQueries().map {
            TraversalQuery(address: $0, query: .findNode(id: ownID, target: target, want: want))
        }
        counters.queriesSent += out.count
        return out
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        counters.responses += 1
        lookup.answered(address, id: response.id, tier: tier, token: nil)
        lookup.offer(family == .v4 ? response.nodes : response.nodes6, excluding: ownID)
    }

    mutating func handleSlow(_ address: NodeAddress) { lookup.slow(address) }
    mutating func handleFailure(_ address: NodeAddress) { lookup.failed(address) }

    func summary(now: DHTInstant) -> TraversalSummary {
        var summary = TraversalSummary(kind: kind, target: lookup.target, family: family, counters: counters, now: now)
        summary.closest = lookup.preferredClosest().map { TraversalSummary.Node(contact: $0.contact, tier: $0.tier) }
        return summary
    }
}

/// Refreshes one routing-table bucket: a find_node for a random ID inside it
/// (BEP 5), which fills the bucket with whoever answers on the way.
struct RefreshTraversal: Traversal {
    var inner: FindNodeTraversal

    init(operation: DHTOperation, family: IPAddress.Family, lookup: Lookup, now: DHTInstant) {
        inner = FindNodeTraversal(operation: operation, family: family, kind: .refresh, lookup: lookup, now: now)
    }

    var operation: DHTOperation { inner.operation }
    var family: IPAddress.Family { inner.family }
    var isFinished: Bool { inner.isFinished }

    mutating func nextQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery] {
        inner.nextQueries(ownID: ownID, want: want)
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        inner.handleResponse(response, from: address, tier: tier, ownID: ownID, events: &events)
    }

    mutating func handleSlow(_ address: NodeAddress) { inner.handleSlow(address) }
    mutating func handleFailure(_ address: NodeAddress) { inner.handleFailure(address) }
    func summary(now: DHTInstant) -> TraversalSummary { inner.summary(now: now) }
}
