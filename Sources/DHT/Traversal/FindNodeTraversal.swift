import Identity

/// find_node toward a target: joining the DHT (bootstrap: our own ID, seeded
/// with the bootstrap addresses), refreshing a routing-table bucket (a random
/// ID inside it, BEP 5) and `bitfountain dht find-node`; `kind` tells them apart
/// in the summary.
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
