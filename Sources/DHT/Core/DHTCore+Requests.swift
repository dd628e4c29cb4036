import Identity

/// Our side of the conversation: sending queries, matching answers to them,
/// timeouts, and driving traversals.
extension DHTCore {
    /// Sends `query` with a fresh random 4-byte transaction ID and starts its
    /// timers. Fails when too many queries are already outstanding.
    mutating func sendQuery(_ query: KRPCQuery, to address: NodeAddress, owner: PendingQuery.Owner, now: DHTInstant) -> Bool {
        guard pending.count < configuration.maxPendingQueries, address.port != 0 else { return false }
        var transaction = UInt32(truncatingIfNeeded: random.next())
        while pending[transaction] != nil { transaction = UInt32(truncatingIfNeeded: random.next()) }
        writer.writeQuery(query, transactionID: ShortBytes(uint32: transaction), readOnly: configuration.readOnly,
                          signer: authenticator)
        outgoing.append(OutgoingDatagram(bytes: writer.buffer, destination: address))
        let serial = nextSerial
        nextSerial += 1
        pending[transaction] = PendingQuery(address: address, sentAt: now, owner: owner, serial: serial)
        if case .traversal = owner {
            timers.push(now + configuration.slowQueryTimeout, .slow(transaction: transaction, serial: serial))
        }
        timers.push(now + configuration.queryTimeout, .expire(transaction: transaction, serial: serial))
        statistics.queriesSent += 1
        return true
    }

    /// A ping for table upkeep; at most one per address per minute.
    mutating func maintenancePing(_ address: NodeAddress, now: DHTInstant) {
        if let last = recentlyPinged[address], now.since(last) < .minutes(1) { return }
        if recentlyPinged.count >= 4_096 { recentlyPinged.removeAll(keepingCapacity: true) }
        recentlyPinged[address] = now
        // Leave room for lookups: upkeep never takes the last quarter of the query slots.
        guard pending.count < configuration.maxPendingQueries * 3 / 4 else { return }
        _ = sendQuery(.ping(id: nodeID(for: address.family)), to: address, owner: .maintenance, now: now)
    }

    mutating func fire(_ entry: TimerEntry, now: DHTInstant) {
        switch entry {
        case .slow(let transaction, let serial):
            guard let query = pending[transaction], query.serial == serial,
                  case .traversal(let operation) = query.owner, traversals[operation] != nil else { return }
            traversals[operation]!.handleSlow(query.address)
            pump(operation, now: now)
        case .expire(let transaction, let serial):
            guard let query = pending[transaction], query.serial == serial else { return }
            pending[transaction] = nil
            statistics.timeouts += 1
            tables[query.address.family]?.queryFailed(query.address, now: now)
            failed(query, error: nil, now: now)
        }
    }

    /// Tells the owner of a query that it will get no (useful) answer.
    private mutating func failed(_ query: PendingQuery, error: KRPCError?, now: DHTInstant) {
        switch query.owner {
        case .traversal(let operation):
            guard traversals[operation] != nil else { return }
            traversals[operation]!.handleFailure(query.address)
            pump(operation, now: now)
        case .ping(let operation), .sample(let operation):
            events.append(.requestFailed(operation, query.address, error))
        case .maintenance:
            break
        }
    }

    mutating func handleResponse(_ response: KRPCResponse, message: KRPCMessage, packet: UnsafeRawBufferPointer,
                                 from source: NodeAddress, now: DHTInstant) {
        guard let transaction = message.transactionID.uint32, let query = pending[transaction],
              query.address == source else {
            statistics.droppedUnsolicited += 1
            return
        }
        let tier = verifier.tier(of: message, senderID: response.id, packet: packet, source: source.ip,
                                 using: authenticator)
        guard tier != .invalid else {
            // Forged or mismatched: ignore it (the query times out) and forget the node.
            statistics.droppedInvalidSignature += 1
            tables[source.family]?.remove(source)
            return
        }
        pending[transaction] = nil
        statistics.responsesReceived += 1
        let roundTrip = now.since(query.sentAt)
        learnFromResponse(NodeContact(id: response.id, address: source), tier: tier, roundTrip: roundTrip, now: now)
        if let claimed = message.requesterAddress { voteExternalAddress(claimed.ip, voter: source.ip, now: now) }

        switch query.owner {
        case .traversal(let operation):
            guard traversals[operation] != nil else { return }
            let ownID = nodeID(for: source.family)
            traversals[operation]!.handleResponse(response, from: source, tier: tier, ownID: ownID, events: &events)
            pump(operation, now: now)
        case .ping(let operation):
            events.append(.pong(operation, PingReply(id: response.id, address: source, roundTrip: roundTrip, tier: tier,
                                                     version: message.version)))
        case .sample(let operation):
            events.append(.samples(operation, SampleReply(from: NodeContact(id: response.id, address: source), tier: tier,
                                                          samples: response.samples, num: response.num,
                                                          interval: response.interval)))
        case .maintenance:
            break
        }
    }

    mutating func handleErrorReply(_ error: KRPCError, message: KRPCMessage, from source: NodeAddress, now: DHTInstant) {
        guard let transaction = message.transactionID.uint32, let query = pending[transaction],
              query.address == source else {
            statistics.droppedUnsolicited += 1
            return
        }
        pending[transaction] = nil
        statistics.errorsReceived += 1
        failed(query, error: error, now: now)
    }

    /// A node answered us: it may enter the table. When its bucket is full,
    /// the questionable members get pinged so a dead one can make room.
    private mutating func learnFromResponse(_ contact: NodeContact, tier: TrustTier, roundTrip: DHTDuration, now: DHTInstant) {
        guard var table = tables[contact.address.family], contact.id != table.ownID else { return }
        let outcome = table.nodeResponded(contact, tier: tier, roundTrip: roundTrip, now: now)
        tables[contact.address.family] = table
        if case .cached(let questionable) = outcome {
            for node in questionable.prefix(2) { maintenancePing(node.address, now: now) }
        }
    }

    /// BEP 42: when enough nodes agree on our external IP, our ID follows it.
    private mutating func voteExternalAddress(_ claimed: IPAddress, voter: IPAddress, now: DHTInstant) {
        let family = claimed.family
        guard let winner = voters[family]?.vote(claimed: claimed, voter: voter) else { return }
        adoptExternalAddress(winner, family: family, now: now)
    }

    /// The home router told us our external address (PCP, NAT-PMP, UPnP):
    /// an authority, not one vote among many, so the BEP 42 node ID is
    /// derived from it at once when it differs from the one we hold.
    public mutating func externalAddressReported(_ address: IPAddress, now: DHTInstant) {
        guard !address.isLocal, !address.isUnroutable, voters[address.family] != nil,
              externalAddress(for: address.family) != address else { return }
        adoptExternalAddress(address, family: address.family, now: now)
    }

    mutating func adoptExternalAddress(_ address: IPAddress?, family: IPAddress.Family, now: DHTInstant) {
        voters[family]?.restore(address)
        let newID = SignedNodeID.derive(keyHash: keyHash, externalIP: address)
        guard var table = tables[family], table.ownID != newID else { return }
        table.changeOwnID(newID, now: now)
        tables[family] = table
        events.append(.nodeIDChanged(family, newID))
    }

    // MARK: Traversals

    mutating func start(_ traversal: some Traversal, now: DHTInstant) {
        traversals[traversal.operation] = traversal
        pump(traversal.operation, now: now)
    }

    /// Sends what a traversal wants sent, and retires it when it is done.
    mutating func pump(_ operation: DHTOperation, now: DHTInstant) {
        guard var traversal = traversals[operation] else { return }
        let ownID = nodeID(for: traversal.family)
        // Queries that cannot be sent fail at once, which may free the lookup
        // to pick others; the loop ends because each round consumes candidates.
        while true {
            let queries = traversal.nextQueries(ownID: ownID, want: wantedFamilies)
            var unsent = false
            for query in queries where !sendQuery(query.query, to: query.address, owner: .traversal(operation), now: now) {
                traversal.handleFailure(query.address)
                unsent = true
            }
            if !unsent { break }
        }
        if traversal.isFinished {
            traversals[operation] = nil
            let summary = traversal.summary(now: now)
            traversalEnded(operation, summary: summary, family: traversal.family, now: now)
            events.append(.finished(operation, summary))
        } else {
            traversals[operation] = traversal
        }
    }

    /// Book-keeping for the traversals the core starts itself.
    private mutating func traversalEnded(_ operation: DHTOperation, summary: TraversalSummary, family: IPAddress.Family,
                                         now: DHTInstant) {
        if refreshing[family] == operation { refreshing[family] = nil }
        guard var state = bootstrap[family], state.running == operation else { return }
        state.running = nil
        if (tables[family]?.count ?? 0) > 0 {
            // Kademlia join: having found our neighbours, fill the far buckets.
            if !state.succeededOnce { tables[family]?.markFarBucketsForRefresh() }
            state.succeededOnce = true
            state.backoff = configuration.bootstrapRetryInitial
            state.nextAttempt = now + state.backoff
        } else {
            // Nothing answered (network down?): try again later, waiting longer each time.
            state.nextAttempt = now + state.backoff
            state.backoff = min(state.backoff * 2, configuration.bootstrapRetryMax)
        }
        bootstrap[family] = state
    }
}
