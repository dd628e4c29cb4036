import Identity

/// find_node toward a target: joining the DHT (bootstrap: our own ID, seeded
/// with the bootstrap addresses) and `bitfountain dht find-node`.
struct FindNodeTraversal: LookupTraversal {
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

    func query(ownID: NodeID, target: NodeID, want: WantedFamilies) -> KRPCQuery {
        .findNode(id: ownID, target: target, want: want)
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        absorb(response, from: address, tier: tier, ownID: ownID)
    }

    func summary(now: DHTInstant) -> TraversalSummary { baseSummary(kind: kind, now: now) }
}

/// Refreshes one routing-table bucket: a find_node for a random ID inside it
/// (BEP 5), which fills the bucket with whoever answers on the way. The same
/// lookup as find_node; its own type so the core can tell its end apart.
struct RefreshTraversal: LookupTraversal {
    let operation: DHTOperation
    let family: IPAddress.Family
    var lookup: Lookup
    var counters: TraversalCounters

    init(operation: DHTOperation, family: IPAddress.Family, lookup: Lookup, now: DHTInstant) {
        self.operation = operation
        self.family = family
        self.lookup = lookup
        self.counters = TraversalCounters(startedAt: now)
    }

    func query(ownID: NodeID, target: NodeID, want: WantedFamilies) -> KRPCQuery {
        .findNode(id: ownID, target: target, want: want)
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        absorb(response, from: address, tier: tier, ownID: ownID)
    }

    func summary(now: DHTInstant) -> TraversalSummary { baseSummary(kind: .refresh, now: now) }
}
