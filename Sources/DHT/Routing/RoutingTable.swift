import Identity

/// Kademlia routing table (BEP 5): K-sized buckets, split around our own ID.
///
/// Bucket `i` holds nodes whose ID shares exactly `i` leading bits with ours;
/// the last bucket holds everything closer. Only that last bucket splits, so
/// the table is detailed near our ID and coarse far away.
///
/// Policies beyond BEP 5:
/// - one entry per IP:port (a node that changes ID replaces its old entry);
/// - at most `maxPerNetwork` entries per /24 (IPv4) or /64 (IPv6) for public
///   addresses, so one network cannot fill the table (local addresses are exempt);
/// - verified nodes are preferred: a verified newcomer displaces a plain
///   member of a full bucket, which moves to the replacement cache;
/// - invalid nodes never enter (the caller drops them before asking).
public struct RoutingTable: Sendable {
    public struct Timings: Sendable {
        /// How long a response keeps a node good (BEP 5: 15 minutes).
        public var goodFor: DHTDuration = .minutes(15)
        /// Unanswered queries in a row before a node is bad.
        public var failuresBeforeBad = 3
        /// A bucket untouched this long is refreshed with a lookup.
        public var refreshAfter: DHTDuration = .minutes(15)

        public init() {}
    }

    public let k: Int
    public let replacementCapacity: Int
    public let maxPerNetwork: Int
    public var timings: Timings
    public private(set) var ownID: NodeID
    private(set) var buckets: [Bucket]
    private var byAddress: [NodeAddress: NodeID] = [:]
    private var perNetwork: [IPAddress: Int] = [:]

    public init(ownID: NodeID, k: Int = 8, replacementCapacity: Int = 8, maxPerNetwork: Int = 3,
                timings: Timings = Timings(), now: DHTInstant) {
        self.ownID = ownID
        self.k = k
        self.replacementCapacity = replacementCapacity
        self.maxPerNetwork = maxPerNetwork
        self.timings = timings
        self.buckets = [Bucket(lastChanged: now)]
    }

    /// Number of nodes in the table (not counting replacement caches).
    public private(set) var count = 0
    public var bucketCount: Int { buckets.count }
    public var isEmpty: Bool { count == 0 }

    public var entries: [RoutingEntry] { buckets.flatMap(\.entries) }

    public func entry(at address: NodeAddress) -> RoutingEntry? {
        guard let id = byAddress[address] else { return nil }
        let bucket = buckets[bucketIndex(for: id)]
        return bucket.index(of: address).map { bucket.entries[$0] }
    }

    public func contains(_ address: NodeAddress) -> Bool { byAddress[address] != nil }

    func bucketIndex(for id: NodeID) -> Int {
        min(ownID.commonPrefixLength(with: id), buckets.count - 1)
    }

    // MARK: Updates

    public enum Outcome: Sendable, Equatable {
        case updated
        case inserted
        /// The bucket is full of nodes that may be alive: the node waits in the
        /// replacement cache and the caller should ping these questionable members.
        case cached(ping: [NodeContact])
        case rejected
    }

    /// A node answered one of our queries: record it, inserting it if it fits.
    @discardableResult
    public mutating func nodeResponded(_ contact: NodeContact, tier: TrustTier, roundTrip: DHTDuration?,
                                       now: DHTInstant) -> Outcome {
        guard tier != .invalid, contact.id != ownID else { return .rejected }
        if let existing = byAddress[contact.address] {
            if existing == contact.id {
                update(contact.address, id: existing) {
                    $0.lastResponse = now
                    $0.failedQueries = 0
                    $0.tier = tier
                    if let roundTrip { $0.roundTrip = roundTrip }
                }
                buckets[bucketIndex(for: existing)].lastChanged = now
                return .updated
            }
            // Same address, new ID: the node restarted with another identity.
            remove(contact.address)
        }
        var entry = RoutingEntry(contact: contact, tier: tier, lastResponse: now, roundTrip: roundTrip)
        entry.lastQuery = nil
        return insert(entry, now: now)
    }

    /// A node in the table sent us a query (keeps it good per BEP 5).
    public mutating func nodeQueried(_ contact: NodeContact, now: DHTInstant) {
        guard byAddress[contact.address] == contact.id else { return }
        update(contact.address, id: contact.id) { $0.lastQuery = now }
    }

    /// A query to `address` timed out. A member that goes bad is replaced from
    /// the cache when a replacement is waiting.
    public mutating func queryFailed(_ address: NodeAddress, now: DHTInstant) {
        if let id = byAddress[address] {
            update(address, id: id) { $0.failedQueries += 1 }
            let index = bucketIndex(for: id)
            if let position = buckets[index].index(of: address),
               buckets[index].entries[position].status(now: now, timings: timings) == .bad {
                promoteReplacement(into: index, replacing: position, now: now)
            }
            return
        }
        for index in buckets.indices {
            if let position = buckets[index].replacementIndex(of: address) {
                buckets[index].replacements.remove(at: position)
                return
            }
        }
    }

    /// Removes a node entirely (for instance one found to be invalid).
    public mutating func remove(_ address: NodeAddress) {
        guard let id = byAddress[address] else { return }
        let index = bucketIndex(for: id)
        if let position = buckets[index].index(of: address) {
            buckets[index].entries.remove(at: position)
            forget(address)
        }
    }

    /// Rebuilds the table around a new ID (our ID changes when the external IP does).
    public mutating func changeOwnID(_ newID: NodeID, now: DHTInstant) {
        let all = buckets.flatMap { $0.entries + $0.replacements }
        ownID = newID
        buckets = [Bucket(lastChanged: now)]
        byAddress = [:]
        perNetwork = [:]
        count = 0
        for entry in all where entry.id != newID { _ = insert(entry, now: now) }
    }

    /// Whether a node with this ID would get a slot if it answered: its bucket
    /// has room, can split, holds a bad member, or (for a node that signs) a
    /// plain member it could displace.
    public func wouldAccept(_ id: NodeID, likelyVerified: Bool, now: DHTInstant) -> Bool {
        guard id != ownID else { return false }
        let index = bucketIndex(for: id)
        let bucket = buckets[index]
        if bucket.entries.count < k { return true }
        if index == buckets.count - 1, buckets.count < NodeID.bitCount { return true }
        if bucket.entries.contains(where: { $0.status(now: now, timings: timings) == .bad }) { return true }
        return likelyVerified && bucket.entries.contains { $0.tier == .plain }
    }

    // MARK: Queries

    /// The `count` known nodes closest to `target`, closest first; bad nodes are skipped.
    public func closest(to target: NodeID, count wanted: Int, now: DHTInstant, includeQuestionable: Bool = true) -> [NodeContact] {
        closestEntries(to: target, count: wanted, now: now, includeQuestionable: includeQuestionable).map(\.contact)
    }

    public func closestEntries(to target: NodeID, count wanted: Int, now: DHTInstant, includeQuestionable: Bool = true) -> [RoutingEntry] {
        guard wanted > 0 else { return [] }
        // Keep (distance, bucket, slot) of the best so far, sorted; copy entries out at the end.
        var best: [Ranked] = []
        best.reserveCapacity(wanted + 1)
        for bucketIndex in buckets.indices {
            let entries = buckets[bucketIndex].entries
            for slot in entries.indices {
                let distance = entries[slot].contact.id ^ target
                if best.count == wanted, !(distance < best[wanted - 1].distance) { continue }
                let status = entries[slot].status(now: now, timings: timings)
                if status == .bad || (!includeQuestionable && status != .good) { continue }
                var position = best.count
                while position > 0, distance < best[position - 1].distance { position -= 1 }
                best.insert(Ranked(distance: distance, bucket: bucketIndex, slot: slot), at: position)
                if best.count > wanted { best.removeLast() }
            }
        }
        return best.map { buckets[$0.bucket].entries[$0.slot] }
    }

    private struct Ranked {
        var distance: NodeID
        var bucket: Int
        var slot: Int
    }

    /// Buckets nobody has touched for `timings.refreshAfter`, with a random
    /// target inside each (from `random`).
    public func refreshTargets(now: DHTInstant, random: (Int) -> NodeID) -> [NodeID] {
        buckets.indices.compactMap { index -> NodeID? in
            guard buckets[index].refreshDue || now.since(buckets[index].lastChanged) >= timings.refreshAfter else { return nil }
            return randomID(inBucket: index, random: random(index))
        }
    }

    /// An ID that would land in bucket `index`.
    public func randomID(inBucket index: Int, random: NodeID) -> NodeID {
        if index >= buckets.count - 1 {
            return ownID.keepingPrefix(index, randomRest: random)
        }
        // Share exactly `index` bits: keep them, flip the next, randomise the rest.
        return ownID.flippingBit(index).keepingPrefix(index + 1, randomRest: random)
    }

    /// After joining (Kademlia): the lookup for our own ID filled the buckets
    /// near us; the ones farther than our closest neighbour that are not full
    /// yet are made due for a refresh (one per maintenance round).
    public mutating func markFarBucketsForRefresh() {
        guard let neighbour = entries.min(by: { ($0.id ^ ownID) < ($1.id ^ ownID) }) else { return }
        let nearDepth = min(ownID.commonPrefixLength(with: neighbour.id), buckets.count - 1)
        for index in 0..<nearDepth where buckets[index].entries.count < k { buckets[index].refreshDue = true }
    }

    public mutating func markRefreshed(target: NodeID, now: DHTInstant) {
        buckets[bucketIndex(for: target)].lastChanged = now
        buckets[bucketIndex(for: target)].refreshDue = false
    }

    /// In each bucket, the member that has gone longest without activity, if
    /// it is questionable: the maintenance loop pings these.
    public func questionableNodes(now: DHTInstant, limit: Int) -> [NodeContact] {
        var out: [NodeContact] = []
        for bucket in buckets {
            let candidates = bucket.entries.filter { $0.status(now: now, timings: timings) == .questionable }
            if let oldest = candidates.min(by: { $0.lastActivity < $1.lastActivity }) {
                out.append(oldest.contact)
                if out.count >= limit { break }
            }
        }
        return out
    }

    public struct Summary: Sendable, Equatable {
        public var nodes = 0
        public var verified = 0
        public var good = 0
        public var replacements = 0
        public var buckets = 0
    }

    public func summary(now: DHTInstant) -> Summary {
        var summary = Summary()
        summary.buckets = buckets.count
        for bucket in buckets {
            summary.replacements += bucket.replacements.count
            for entry in bucket.entries {
                summary.nodes += 1
                if entry.tier == .verified { summary.verified += 1 }
                if entry.status(now: now, timings: timings) == .good { summary.good += 1 }
            }
        }
        return summary
    }

    // MARK: Insertion

    private mutating func insert(_ entry: RoutingEntry, now: DHTInstant) -> Outcome {
        let ip = entry.address.ip
        if !ip.isLocal, perNetwork[ip.networkPrefix, default: 0] >= maxPerNetwork { return .rejected }
        while true {
            let index = bucketIndex(for: entry.id)
            if buckets[index].entries.count < k {
                add(entry, to: index, now: now)
                return .inserted
            }
            if index == buckets.count - 1, buckets.count < NodeID.bitCount {
                split()
                continue
            }
            if let bad = buckets[index].entries.firstIndex(where: { $0.status(now: now, timings: timings) == .bad }) {
                let old = buckets[index].entries.remove(at: bad)
                forget(old.address)
                add(entry, to: index, now: now)
                return .inserted
            }
            if entry.tier == .verified, let plain = displaceablePlain(in: index, now: now) {
                let old = buckets[index].entries.remove(at: plain)
                forget(old.address)
                cache(old, in: index)
                add(entry, to: index, now: now)
                return .inserted
            }
            cache(entry, in: index)
            let questionable = buckets[index].entries.filter { $0.status(now: now, timings: timings) == .questionable }
            return .cached(ping: questionable.map(\.contact))
        }
    }

    /// The plain member a verified node should take the place of: a
    /// questionable one first, else the one seen least recently.
    private func displaceablePlain(in index: Int, now: DHTInstant) -> Int? {
        let plain = buckets[index].entries.indices.filter { buckets[index].entries[$0].tier == .plain }
        if let questionable = plain.first(where: { buckets[index].entries[$0].status(now: now, timings: timings) != .good }) {
            return questionable
        }
        return plain.min { buckets[index].entries[$0].lastActivity < buckets[index].entries[$1].lastActivity }
    }

    private mutating func add(_ entry: RoutingEntry, to index: Int, now: DHTInstant) {
        if let cached = buckets[index].replacementIndex(of: entry.address) { buckets[index].replacements.remove(at: cached) }
        buckets[index].entries.append(entry)
        buckets[index].lastChanged = now
        byAddress[entry.address] = entry.id
        if !entry.address.ip.isLocal { perNetwork[entry.address.ip.networkPrefix, default: 0] += 1 }
        count += 1
    }

    private mutating func forget(_ address: NodeAddress) {
        byAddress[address] = nil
        count -= 1
        guard !address.ip.isLocal else { return }
        let network = address.ip.networkPrefix
        if let current = perNetwork[network] { perNetwork[network] = current > 1 ? current - 1 : nil }
    }

    /// Keeps a candidate for when a member goes bad; verified and recent first.
    private mutating func cache(_ entry: RoutingEntry, in index: Int) {
        var replacements = buckets[index].replacements
        if let existing = replacements.firstIndex(where: { $0.address == entry.address }) { replacements.remove(at: existing) }
        replacements.append(entry)
        if replacements.count > replacementCapacity {
            // Drop a plain one before a verified one, the oldest first.
            let victim = replacements.indices.min {
                (replacements[$0].tier == .verified ? 1 : 0, replacements[$0].lastActivity)
                    < (replacements[$1].tier == .verified ? 1 : 0, replacements[$1].lastActivity)
            }!
            replacements.remove(at: victim)
        }
        buckets[index].replacements = replacements
    }

    private mutating func promoteReplacement(into index: Int, replacing position: Int, now: DHTInstant) {
        guard !buckets[index].replacements.isEmpty else { return }
        let replacements = buckets[index].replacements
        let best = replacements.indices.max {
            (replacements[$0].tier == .verified ? 1 : 0, replacements[$0].lastActivity)
                < (replacements[$1].tier == .verified ? 1 : 0, replacements[$1].lastActivity)
        }!
        let promoted = buckets[index].replacements.remove(at: best)
        let old = buckets[index].entries.remove(at: position)
        forget(old.address)
        if byAddress[promoted.address] == nil { add(promoted, to: index, now: now) }
    }

    /// Splits the last bucket: members sharing one more bit with us move to a new last bucket.
    private mutating func split() {
        let last = buckets.count - 1
        let depth = last + 1
        var near = Bucket(lastChanged: buckets[last].lastChanged)
        var far = Bucket(lastChanged: buckets[last].lastChanged)
        for entry in buckets[last].entries {
            if ownID.commonPrefixLength(with: entry.id) >= depth { near.entries.append(entry) } else { far.entries.append(entry) }
        }
        for entry in buckets[last].replacements {
            if ownID.commonPrefixLength(with: entry.id) >= depth { near.replacements.append(entry) } else { far.replacements.append(entry) }
        }
        buckets[last] = far
        buckets.append(near)
    }

    private mutating func update(_ address: NodeAddress, id: NodeID, _ change: (inout RoutingEntry) -> Void) {
        let index = bucketIndex(for: id)
        guard let position = buckets[index].index(of: address) else { return }
        change(&buckets[index].entries[position])
    }
}
