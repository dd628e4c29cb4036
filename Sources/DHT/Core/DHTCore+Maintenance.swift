import Identity

/// Periodic upkeep (every `maintenanceInterval`): token rotation, peer and
/// item expiry, bootstrap with backoff, pinging questionable nodes, refreshing
/// stale buckets.
extension DHTCore {
    mutating func maintain(now: DHTInstant) {
        tokens.rotateIfDue(now: now) { random.bytes(20) }
        if now >= nextPeerExpiry {
            peerStore.expire(now: now)
            itemStore.expire(now: now)
            nextPeerExpiry = now + .minutes(1)
        }
        querierPingBudget = 32
        if recentlyPinged.count > 1_024 {
            recentlyPinged = recentlyPinged.filter { now.since($0.value) < .minutes(1) }
        }
        for family in configuration.families.sorted(by: { $0 == .v4 && $1 == .v6 }) {
            bootstrapIfNeeded(family, now: now)
            guard let table = tables[family], !table.isEmpty else { continue }
            for contact in table.questionableNodes(now: now, limit: 2) { maintenancePing(contact.address, now: now) }
            refreshIfStale(family, now: now)
        }
    }

    /// Joins the DHT: a find_node for our own ID, seeded with the bootstrap
    /// nodes while the table is small. Runs at start, and again (with
    /// exponential backoff) for as long as the table stays too small.
    mutating func bootstrapIfNeeded(_ family: IPAddress.Family, now: DHTInstant) {
        guard var state = bootstrap[family], state.running == nil, now >= state.nextAttempt,
              let table = tables[family] else { return }
        let small = table.count < configuration.minimumTableSize
        guard small || !state.succeededOnce else { return }
        guard !state.seeds.isEmpty || !table.isEmpty else { return }
        let operation = makeOperation()
        let lookup = makeLookup(target: table.ownID, family: family, now: now)
        state.running = operation
        bootstrap[family] = state
        start(FindNodeTraversal(operation: operation, family: family, kind: .bootstrap, lookup: lookup, now: now), now: now)
    }

    /// One refresh at a time per family, for the first bucket nobody touched in 15 minutes.
    private mutating func refreshIfStale(_ family: IPAddress.Family, now: DHTInstant) {
        guard refreshing[family] == nil, bootstrap[family]?.running == nil, var table = tables[family] else { return }
        var random = self.random
        let targets = table.refreshTargets(now: now) { _ in NodeID.random(using: &random) }
        self.random = random
        guard let target = targets.first else { return }
        table.markRefreshed(target: target, now: now)
        tables[family] = table
        let operation = makeOperation()
        refreshing[family] = operation
        start(FindNodeTraversal(operation: operation, family: family, kind: .refresh,
                                lookup: makeLookup(target: target, family: family, now: now), now: now), now: now)
    }
}
