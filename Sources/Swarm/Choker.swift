import Metainfo

/// Who we upload to (BEP 3 choking), as a sub-machine of `TorrentMachine`:
/// the interested peers with the best rates get the regular slots (download
/// rate from them while we leech, which is reciprocation; upload rate to them
/// once we seed), one more choked peer gets the optimistic slot, re-drawn every
/// `optimisticInterval` so newcomers get a chance, and between rounds a free
/// regular slot goes at once to the next interested peer.
///
/// It owns the timing of rounds and decides; the machine carries the
/// decisions out (choke/unchoke messages, cancelling what a choke drops) and
/// keeps each peer's wire state (`amChoking`, `isOptimistic`), which serving
/// and the stats read too. Sans-I/O; its randomness is the machine's seeded one.
struct Choker: Sendable {
    typealias PeerKey = PeerRecord.Key

    /// What the choker needs to know of one connected peer.
    struct Peer: Sendable {
        let key: PeerKey
        let interested: Bool
        let isSeed: Bool
        /// Download rate from it while we leech, upload rate to it once we seed.
        let rate: Double
        /// We are not choking it.
        let unchoked: Bool
        /// It holds the optimistic slot.
        let optimistic: Bool
    }

    /// A round's outcome: who is unchoked (the regular slots and the optimistic one); everyone else is choked.
    struct Round: Sendable, Equatable {
        var regular: Set<PeerKey>
        var optimistic: PeerKey?

        func unchokes(_ key: PeerKey) -> Bool { regular.contains(key) || key == optimistic }
    }

    let regularSlots: Int
    let roundInterval: Double
    let optimisticInterval: Double
    private(set) var lastRound = -Double.infinity
    private(set) var lastOptimisticRound = -Double.infinity

    init(regularSlots: Int, roundInterval: Double, optimisticInterval: Double) {
        self.regularSlots = regularSlots
        self.roundInterval = roundInterval
        self.optimisticInterval = optimisticInterval
    }

    init(_ configuration: SwarmConfiguration) {
        self.init(regularSlots: configuration.regularUnchokeSlots, roundInterval: configuration.chokeInterval,
                  optimisticInterval: configuration.optimisticUnchokeInterval)
    }

    func roundDue(now: Double) -> Bool { now - lastRound >= roundInterval }

    /// A choke round over every connected peer. Ties in rate go to the lower key,
    /// so a round is a function of its inputs and `random`.
    mutating func round(now: Double, peers: some Sequence<Peer>, random: inout SplitMix64) -> Round {
        lastRound = now
        let candidates = peers.filter { $0.interested && !$0.isSeed }
        let ranked = candidates.sorted { a, b in a.rate != b.rate ? a.rate > b.rate : a.key < b.key }
        let regular = Set(ranked.prefix(regularSlots).map(\.key))

        // The optimistic peer keeps its slot until the interval is up, while it stays interested.
        var optimistic = peers.first { $0.optimistic && !regular.contains($0.key) && $0.interested }?.key
        if optimistic == nil || now - lastOptimisticRound >= optimisticInterval {
            let choked = ranked.filter { !regular.contains($0.key) && $0.key != optimistic }
            if !choked.isEmpty {
                optimistic = choked[Int.random(in: 0..<choked.count, using: &random)].key
                lastOptimisticRound = now
            }
        }
        return Round(regular: regular, optimistic: optimistic)
    }

    /// Between rounds: the interested, choked peers (lowest key first) that
    /// free regular slots can take at once.
    func slotsToFill(_ peers: some Sequence<Peer>) -> [PeerKey] {
        let taken = peers.filter { $0.unchoked && !$0.optimistic }.count
        guard taken < regularSlots else { return [] }
        let waiting = peers.filter { !$0.unchoked && $0.interested }.map(\.key).sorted()
        return Array(waiting.prefix(regularSlots - taken))
    }

    /// A peer lost interest: a regular slot is taken back at once (the
    /// optimistic one keeps it until the next draw).
    func chokesWhenUninterested(_ peer: Peer) -> Bool { peer.unchoked && !peer.optimistic }
}
