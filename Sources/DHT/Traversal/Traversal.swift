import Identity

/// A query a traversal wants sent.
struct TraversalQuery: Sendable {
    var address: NodeAddress
    var query: KRPCQuery
}

/// What the core needs from each traversal kind. The lookup mechanics live in
/// `Lookup`; each kind decides what to ask and what to keep from the answers.
protocol Traversal: Sendable {
    var operation: DHTOperation { get }
    var family: IPAddress.Family { get }
    var isFinished: Bool { get }

    /// Queries to send now (with `ownID` as our `id`).
    mutating func nextQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery]
    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent])
    /// No answer within the short timeout: stop counting it against α.
    mutating func handleSlow(_ address: NodeAddress)
    /// No answer at all, or an error reply.
    mutating func handleFailure(_ address: NodeAddress)
    func summary(now: DHTInstant) -> TraversalSummary
}

/// Book-keeping every traversal kind shares.
struct TraversalCounters: Sendable {
    var queriesSent = 0
    var responses = 0
    let startedAt: DHTInstant
}

/// What every lookup traversal carries: the operation it serves, the address
/// family it walks, the lookup itself and its counters.
struct LookupState: Sendable {
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
}

/// A traversal that is a plain lookup asking one kind of query: the shared
/// parts (sending, widening, failures, termination) are written once here.
protocol LookupTraversal: Traversal {
    var state: LookupState { get set }
    /// The query to send to each node on the way.
    func query(ownID: NodeID, target: NodeID, want: WantedFamilies) -> KRPCQuery
}

extension LookupTraversal {
    var operation: DHTOperation { state.operation }
    var family: IPAddress.Family { state.family }
    var isFinished: Bool { state.lookup.isFinished }

    mutating func nextQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery] {
        lookupQueries(ownID: ownID, want: want)
    }

    /// The lookup's next queries (α at a time, closest first).
    mutating func lookupQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery] {
        let message = query(ownID: ownID, target: state.lookup.target, want: want)
        let out = state.lookup.nextQueries().map { TraversalQuery(address: $0, query: message) }
        state.counters.queriesSent += out.count
        return out
    }

    /// Records the answer and takes the nodes it lists as new candidates.
    mutating func absorb(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier, ownID: NodeID) {
        state.counters.responses += 1
        state.lookup.answered(address, id: response.id, tier: tier, token: response.token)
        state.lookup.offer(family == .v4 ? response.nodes : response.nodes6, excluding: ownID)
    }

    mutating func handleSlow(_ address: NodeAddress) { state.lookup.slow(address) }
    mutating func handleFailure(_ address: NodeAddress) { state.lookup.failed(address) }

    func baseSummary(kind: TraversalSummary.Kind, now: DHTInstant) -> TraversalSummary {
        var summary = TraversalSummary(kind: kind, target: state.lookup.target, family: family, counters: state.counters, now: now)
        summary.closest = state.lookup.preferredClosest().map { TraversalSummary.Node(contact: $0.contact, tier: $0.tier) }
        return summary
    }
}
