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
