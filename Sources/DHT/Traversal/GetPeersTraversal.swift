import Identity

/// get_peers toward an infohash, streaming every new peer as it arrives, then
/// (when asked to announce) announce_peer to the K preferred closest nodes
/// that gave us a token.
struct GetPeersTraversal: Traversal {
    let operation: DHTOperation
    let family: IPAddress.Family
    var lookup: Lookup
    var counters: TraversalCounters
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
        self.operation = operation
        self.family = family
        self.lookup = lookup
        self.announcePort = announcePort
        self.counters = TraversalCounters(startedAt: now)
    }

    var isFinished: Bool {
        switch phase {
        case .done: return true
        case .announcing(let pending): return pending.isEmpty
        case .lookup: return lookup.isFinished && announcePort == nil
        }
    }

    mutating func nextQueries(ownID: NodeID, want: WantedFamilies) -> [TraversalQuery] {
        guard case .lookup = phase else { return [] }
        if lookup.isFinished {
            guard let port = announcePort else { return [] }
            let targets = lookup.preferredClosest { $0.token != nil }
            phase = targets.isEmpty ? .done : .announcing(pending: Set(targets.map(\.contact.address)))
            counters.queriesSent += targets.count
            return targets.map { target in
                TraversalQuery(address: target.contact.address,
                               query: .announcePeer(id: ownID, infoHash: lookup.target, port: port, token: target.token!))
            }
        }
        let infoHash = lookup.target
        let out = lookup.nextQueries().map {
            TraversalQuery(address: $0, query: .getPeers(id: ownID, infoHash: infoHash, want: want))
        }
        counters.queriesSent += out.count
        return out
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        counters.responses += 1
        if case .announcing(var pending) = phase {
            if pending.remove(address) != nil { announcedTo += 1 }
            phase = .announcing(pending: pending)
            return
        }
        lookup.answered(address, id: response.id, tier: tier, token: response.token)
        lookup.offer(family == .v4 ? response.nodes : response.nodes6, excluding: ownID)
        var fresh: [NodeAddress] = []
        for peer in response.values where seenPeers.count < Self.maxPeersKept && seenPeers.insert(peer).inserted {
            fresh.append(peer)
        }
        if !fresh.isEmpty { events.append(.peers(operation, fresh)) }
    }

    mutating func handleSlow(_ address: NodeAddress) {
        if case .lookup = phase { lookup.slow(address) }
    }

    mutating func handleFailure(_ address: NodeAddress) {
        switch phase {
        case .lookup: lookup.failed(address)
        case .announcing(var pending):
            pending.remove(address)
            phase = .announcing(pending: pending)
        case .done: break
        }
    }

    func summary(now: DHTInstant) -> TraversalSummary {
        var summary = TraversalSummary(kind: .getPeers, target: lookup.target, family: family, counters: counters, now: now)
        summary.closest = lookup.preferredClosest().map { TraversalSummary.Node(contact: $0.contact, tier: $0.tier) }
        summary.peersFound = seenPeers.count
        summary.announcedTo = announcedTo
        return summary
    }
}
