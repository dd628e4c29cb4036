import Identity

/// One node met during a lookup and how far we got with it.
public struct LookupCandidate: Sendable {
    public enum State: Sendable { case fresh, inflight, slow, answered, failed }

    public var contact: NodeContact
    public var state: State = .fresh
    public var tier: TrustTier = .plain
    /// get_peers: the token it gave us, needed to announce to it.
    public var token: ShortBytes?
}

/// The iterative Kademlia lookup shared by every traversal (BEP 5): keep the
/// candidates sorted by distance to the target, query the closest unqueried
/// ones with at most α requests outstanding, and stop once the K closest
/// candidates that did not fail have all answered.
///
/// Short-timeout widening: a query that has not answered within the short
/// timeout is marked *slow*: it no longer counts against α or toward the K
/// closest, so one slow node cannot stall the lookup; its answer is still
/// used if it comes.
struct Lookup: Sendable {
    let target: NodeID
    let k: Int
    let alpha: Int
    /// Candidates kept at most (the closest); bounds memory per lookup.
    let capacity: Int
    private(set) var candidates: [LookupCandidate] = []
    private var known: Set<NodeAddress> = []
    /// Bootstrap addresses whose IDs we do not know: queried first, never
    /// counted for termination. (An array, not a dictionary: iteration order
    /// must not vary, or simulations would not repeat.)
    private var seeds: [Seed] = []

    private struct Seed: Sendable {
        var address: NodeAddress
        var state: LookupCandidate.State
    }

    init(target: NodeID, k: Int, alpha: Int, capacity: Int? = nil) {
        self.target = target
        self.k = k
        self.alpha = alpha
        self.capacity = capacity ?? k * 8
    }

    mutating func addSeeds(_ addresses: [NodeAddress]) {
        for address in addresses where !known.contains(address) {
            known.insert(address)
            seeds.append(Seed(address: address, state: .fresh))
        }
    }

    /// New candidates from a routing table or a `nodes` reply.
    mutating func offer(_ contacts: [NodeContact], excluding ownID: NodeID) {
        for contact in contacts {
            guard contact.id != ownID, contact.address.port != 0, !contact.address.ip.isUnroutable,
                  !known.contains(contact.address) else { continue }
            let distance = contact.id ^ target
            var low = 0, high = candidates.count
            while low < high {
                let mid = (low + high) / 2
                if (candidates[mid].contact.id ^ target) < distance { low = mid + 1 } else { high = mid }
            }
            guard low < capacity else { continue }
            known.insert(contact.address)
            candidates.insert(LookupCandidate(contact: contact), at: low)
            if candidates.count > capacity { candidates.removeLast() }
        }
    }

    private mutating func insertAnswered(_ candidate: LookupCandidate) {
        let distance = candidate.contact.id ^ target
        let position = candidates.firstIndex { distance < ($0.contact.id ^ target) } ?? candidates.count
        guard position < capacity else { return }
        candidates.insert(candidate, at: position)
        if candidates.count > capacity { candidates.removeLast() }
    }

    /// Addresses to query now; they are marked in flight.
    mutating func nextQueries() -> [NodeAddress] {
        var out: [NodeAddress] = []
        for index in seeds.indices where seeds[index].state == .fresh {
            seeds[index].state = .inflight
            out.append(seeds[index].address)
        }
        var active = candidates.reduce(0) { $0 + ($1.state == .inflight ? 1 : 0) }
        var rank = 0
        for index in candidates.indices where candidates[index].state != .failed && candidates[index].state != .slow {
            if rank >= k || active >= alpha { break }
            rank += 1
            if candidates[index].state == .fresh {
                candidates[index].state = .inflight
                out.append(candidates[index].contact.address)
                active += 1
            }
        }
        return out
    }

    /// A queried node answered. Returns false when it was not part of this
    /// lookup or answered with another ID than the one we were told.
    @discardableResult
    mutating func answered(_ address: NodeAddress, id: NodeID, tier: TrustTier, token: ShortBytes?) -> Bool {
        if let seed = seeds.firstIndex(where: { $0.address == address }) {
            seeds[seed].state = .answered
            // Now that we know its ID, a seed is a candidate like any other
            // (it may be among the closest, and its token counts).
            if !candidates.contains(where: { $0.contact.address == address }) {
                let contact = NodeContact(id: id, address: address)
                insertAnswered(LookupCandidate(contact: contact, state: .answered, tier: tier, token: token))
            }
            return true
        }
        guard let index = candidates.firstIndex(where: { $0.contact.address == address }) else { return false }
        guard candidates[index].contact.id == id else {
            candidates[index].state = .failed
            return false
        }
        candidates[index].state = .answered
        candidates[index].tier = tier
        candidates[index].token = token
        return true
    }

    mutating func slow(_ address: NodeAddress) {
        if let seed = seeds.firstIndex(where: { $0.address == address }), seeds[seed].state == .inflight {
            seeds[seed].state = .slow
        }
        if let index = candidates.firstIndex(where: { $0.contact.address == address }), candidates[index].state == .inflight {
            candidates[index].state = .slow
        }
    }

    mutating func failed(_ address: NodeAddress) {
        if let seed = seeds.firstIndex(where: { $0.address == address }) { seeds[seed].state = .failed }
        if let index = candidates.firstIndex(where: { $0.contact.address == address }), candidates[index].state != .answered {
            candidates[index].state = .failed
        }
    }

    /// Done when the K closest candidates that neither failed nor went slow
    /// have answered. A slow node does not hold the lookup until its full
    /// timeout (a dead node left in others' tables would otherwise add seconds
    /// to every lookup near it); if it answers before the end, it counts.
    var isFinished: Bool {
        var considered = 0
        for candidate in candidates where candidate.state != .failed && candidate.state != .slow {
            guard candidate.state == .answered else { return false }
            considered += 1
            if considered == k { return true }
        }
        // Fewer than K usable candidates, all answered: done unless a seed may still bring more.
        return !seeds.contains { $0.state == .fresh || $0.state == .inflight || $0.state == .slow }
    }

    var queriesOutstanding: Bool {
        candidates.contains { $0.state == .inflight || $0.state == .slow }
            || seeds.contains { $0.state == .inflight || $0.state == .slow }
    }

    /// The nodes a lookup's result is made of (and announces go to): from the
    /// 2K closest that answered (and satisfy `include`), verified nodes first,
    /// each group in distance order, K in all (DESIGN §3: verified preferred).
    func preferredClosest(where include: (LookupCandidate) -> Bool = { _ in true }) -> [LookupCandidate] {
        let window = Array(candidates.filter { $0.state == .answered && include($0) }.prefix(2 * k))
        let verified = window.filter { $0.tier == .verified }
        let plain = window.filter { $0.tier != .verified }
        return Array((verified + plain).prefix(k))
    }
}
