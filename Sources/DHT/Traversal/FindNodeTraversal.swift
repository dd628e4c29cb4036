import Identity

/// find_node toward a target: joining the DHT (bootstrap: our own ID, seeded
/// with the bootstrap addresses) and `bitfountain dht find-node`.
struct FindNodeTraversal: LookupTraversal {
    var state: LookupState
    let kind: TraversalSummary.Kind

    init(operation: DHTOperation, family: IPAddress.Family, kind: TraversalSummary.Kind, lookup: Lookup, now: DHTInstant) {
        state = LookupState(operation: operation, family: family, lookup: lookup, now: now)
        self.kind = kind
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
/// lookup as find_node, reported as `.refresh` so the core can tell its end apart.
struct RefreshTraversal: LookupTraversal {
    private var findNode: FindNodeTraversal

    init(operation: DHTOperation, family: IPAddress.Family, lookup: Lookup, now: DHTInstant) {
        findNode = FindNodeTraversal(operation: operation, family: family, kind: .refresh, lookup: lookup, now: now)
    }

    var state: LookupState {
        get { findNode.state }
        _modify { yield &findNode.state }
    }

    func query(ownID: NodeID, target: NodeID, want: WantedFamilies) -> KRPCQuery {
        findNode.query(ownID: ownID, target: target, want: want)
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        findNode.handleResponse(response, from: address, tier: tier, ownID: ownID, events: &events)
    }

    func summary(now: DHTInstant) -> TraversalSummary { findNode.summary(now: now) }
}
