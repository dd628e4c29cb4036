import Identity

/// BEP 44 `put`: a `get` lookup toward the item's target to collect write
/// tokens, then `put` to the K preferred closest nodes that gave one (as
/// announce_peer follows get_peers). For a mutable item the lookup's `get`
/// carries the item's `seq`, so nodes holding it already do not send it back.
struct PutItemTraversal: LookupTraversal {
    var state: LookupState
    let item: DHTItem
    let cas: Int64?
    private var phase = Phase.lookup
    private var storedTo = 0

    private enum Phase: Sendable {
        case lookup
        case storing(pending: Set<NodeAddress>)
        case done
    }

    init(operation: DHTOperation, family: IPAddress.Family, item: DHTItem, cas: Int64?, lookup: Lookup, now: DHTInstant) {
        state = LookupState(operation: operation, family: family, lookup: lookup, now: now)
        self.item = item
        self.cas = cas
    }

    var isFinished: Bool {
        switch phase {
        case .done: return true
        case .storing(let pending): return pending.isEmpty
        case .lookup: return false
        }
    }

    func query(ownID: NodeID, target: NodeID, want: WantedFamilies) -> KRPCQuery {
        var sequence: Int64?
        if case .mutable(let mutable) = item { sequence = mutable.sequence }
        return .get(id: ownID, target: target, sequence: sequence, want: want)
    }

    mutating func nextQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery] {
        guard case .lookup = phase else { return [] }
        guard state.lookup.isFinished else { return lookupQueries(ownID: ownID, want: want) }
        let targets = state.lookup.preferredClosest { $0.token != nil }
        phase = targets.isEmpty ? .done : .storing(pending: Set(targets.map(\.contact.address)))
        state.counters.queriesSent += targets.count
        return targets.map { target in
            TraversalQuery(address: target.contact.address,
                           query: .put(id: ownID, request: PutRequest(token: target.token!, item: item, cas: cas)))
        }
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        if case .storing(var pending) = phase {
            state.counters.responses += 1
            if pending.remove(address) != nil { storedTo += 1 }
            phase = .storing(pending: pending)
            return
        }
        absorb(response, from: address, tier: tier, ownID: ownID)
    }

    mutating func handleSlow(_ address: NodeAddress) {
        if case .lookup = phase { state.lookup.slow(address) }
    }

    /// No answer, or an error (a stale `seq`, a `cas` mismatch, a full store).
    mutating func handleFailure(_ address: NodeAddress) {
        switch phase {
        case .lookup: state.lookup.failed(address)
        case .storing(var pending):
            pending.remove(address)
            phase = .storing(pending: pending)
        case .done: break
        }
    }

    func summary(now: DHTInstant) -> TraversalSummary {
        var summary = baseSummary(kind: .put, now: now)
        summary.storedTo = storedTo
        return summary
    }
}
