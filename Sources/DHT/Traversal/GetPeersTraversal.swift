import Identity

/// get_peers toward an infohash, streaming every new peer as it arrives, then
/// (when asked to announce) announce_peer to the K preferred closest nodes
/// that gave us a token.
struct GetPeersTraversal: LookupTraversal {
    var state: LookupState
    /// nil: lookup only. `.some(nil)`: announce with implied_port.
    let announcePort: UInt16??
    private var seenPeers: Set<NodeAddress> = []
    private var phase = Phase.lookup
    private var announcedTo = 0

    private enum Phase: Sendable {
        case lookup
        case announcing(pending: Set<NodeAddress>)
        case done
    }

    static let maxPeersKept = 5_000

    init(operation: DHTOperation, family: IPAddress.Family, lookup: Lookup, announcePort: UInt16??,
         knownPeers: [NodeAddress] = [], now: DHTInstant) {
        self.seenPeers = Set(knownPeers)
        state = LookupState(operation: operation, family: family, lookup: lookup, now: now)
        self.announcePort = announcePort
    }

    var isFinished: Bool {
        switch phase {
        case .done: return true
        case .announcing(let pending): return pending.isEmpty
        case .lookup: return state.lookup.isFinished && announcePort == nil
        }
    }

    func query(ownID: NodeID, target: NodeID, want: WantedFamilies) -> KRPCQuery {
        .getPeers(id: ownID, infoHash: target, want: want)
    }

    /// The lookup's queries, then (when it has finished and we announce) one
    /// announce_peer to each of the K preferred closest nodes that gave a token.
    mutating func nextQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery] {
        guard case .lookup = phase else { return [] }
        guard state.lookup.isFinished else { return lookupQueries(ownID: ownID, want: want) }
        guard let port = announcePort else { return [] }
        let targets = state.lookup.preferredClosest { $0.token != nil }
        phase = targets.isEmpty ? .done : .announcing(pending: Set(targets.map(\.contact.address)))
        state.counters.queriesSent += targets.count
        return targets.map { target in
            TraversalQuery(address: target.contact.address,
                           query: .announcePeer(id: ownID, infoHash: state.lookup.target, port: port, token: target.token!))
        }
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        if case .announcing(var pending) = phase {
            state.counters.responses += 1
            if pending.remove(address) != nil { announcedTo += 1 }
            phase = .announcing(pending: pending)
            return
        }
        absorb(response, from: address, tier: tier, ownID: ownID)
        var fresh: [NodeAddress] = []
        for peer in response.values where seenPeers.count < Self.maxPeersKept && seenPeers.insert(peer).inserted {
            fresh.append(peer)
        }
        if !fresh.isEmpty { events.append(.peers(operation, fresh)) }
    }

    mutating func handleSlow(_ address: NodeAddress) {
        if case .lookup = phase { state.lookup.slow(address) }
    }

    mutating func handleFailure(_ address: NodeAddress) {
        switch phase {
        case .lookup: state.lookup.failed(address)
        case .announcing(var pending):
            pending.remove(address)
            phase = .announcing(pending: pending)
        case .done: break
        }
    }

    func summary(now: DHTInstant) -> TraversalSummary {
        var summary = baseSummary(kind: .getPeers, now: now)
        summary.peersFound = seenPeers.count
        summary.announcedTo = announcedTo
        return summary
    }
}
