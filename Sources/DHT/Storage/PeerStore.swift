import Identity

/// Peers announced to us (BEP 5 announce_peer), per infohash.
///
/// Everything is bounded: infohashes, peers per infohash and peers in all,
/// each peer expiring 30 minutes after its last announce. When full, the
/// infohash announced least recently makes room; a full infohash replaces its
/// oldest peer.
public struct PeerStore: Sendable {
    public struct Limits: Sendable {
        public var maxInfoHashes = 2_000
        public var maxPeersPerInfoHash = 100
        public var maxPeers = 40_000
        public var lifetime: DHTDuration = .minutes(30)
        public init() {}
    }

    /// Peers of one infohash, in announce order (an array: at most
    /// `maxPeersPerInfoHash`, and a stable order keeps simulations repeatable).
    struct Swarm: Sendable {
        var peers: [Peer] = []
        var lastAnnounce: DHTInstant
    }

    struct Peer: Sendable {
        var address: NodeAddress
        var announced: DHTInstant
    }

    public let limits: Limits
    private var swarms: [NodeID: Swarm] = [:]
    public private(set) var peerCount = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var infoHashCount: Int { swarms.count }

    public mutating func add(_ peer: NodeAddress, for infoHash: NodeID, now: DHTInstant) {
        if swarms[infoHash] == nil {
            if swarms.count >= limits.maxInfoHashes { evictStalestSwarm() }
            swarms[infoHash] = Swarm(lastAnnounce: now)
        }
        var swarm = swarms[infoHash]!
        swarm.lastAnnounce = now
        if let existing = swarm.peers.firstIndex(where: { $0.address == peer }) {
            swarm.peers[existing].announced = now
        } else {
            if swarm.peers.count >= limits.maxPeersPerInfoHash, let oldest = swarm.peers.indices.min(by: {
                swarm.peers[$0].announced < swarm.peers[$1].announced
            }) {
                swarm.peers.remove(at: oldest)
                peerCount -= 1
            }
            guard peerCount < limits.maxPeers else {
                swarms[infoHash] = swarm.peers.isEmpty ? nil : swarm
                return
            }
            swarm.peers.append(Peer(address: peer, announced: now))
            peerCount += 1
        }
        swarms[infoHash] = swarm
    }

    /// Up to `limit` live peers of `family`, a random pick when there are more.
    public func peers<G: RandomNumberGenerator>(for infoHash: NodeID, family: IPAddress.Family, limit: Int,
                                                now: DHTInstant, using random: inout G) -> [NodeAddress] {
        guard limit > 0, let swarm = swarms[infoHash] else { return [] }
        var live = swarm.peers.compactMap { peer -> NodeAddress? in
            peer.address.family == family && now.since(peer.announced) < limits.lifetime ? peer.address : nil
        }
        if live.count > limit {
            live.shuffle(using: &random)
            live.removeLast(live.count - limit)
        }
        return live
    }

    /// Up to `limit` stored infohashes, a random pick (BEP 51 samples).
    public func sample<G: RandomNumberGenerator>(limit: Int, using random: inout G) -> [NodeID] {
        var keys = swarms.keys.sorted()
        if keys.count > limit {
            keys.shuffle(using: &random)
            keys.removeLast(keys.count - limit)
        }
        return keys
    }

    /// Drops peers not re-announced within their lifetime.
    public mutating func expire(now: DHTInstant) {
        for (infoHash, var swarm) in swarms {
            let before = swarm.peers.count
            swarm.peers.removeAll { now.since($0.announced) >= limits.lifetime }
            peerCount -= before - swarm.peers.count
            swarms[infoHash] = swarm.peers.isEmpty ? nil : swarm
        }
    }

    private mutating func evictStalestSwarm() {
        guard let stalest = swarms.min(by: { $0.value.lastAnnounce < $1.value.lastAnnounce }) else { return }
        peerCount -= stalest.value.peers.count
        swarms[stalest.key] = nil
    }
}
