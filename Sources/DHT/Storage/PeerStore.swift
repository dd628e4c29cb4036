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

    struct Swarm: Sendable {
        var peers: [NodeAddress: DHTInstant] = [:]
        var lastAnnounce: DHTInstant
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
        if swarm.peers[peer] == nil {
            if swarm.peers.count >= limits.maxPeersPerInfoHash, let oldest = swarm.peers.min(by: { $0.value < $1.value }) {
                swarm.peers[oldest.key] = nil
                peerCount -= 1
            }
            guard peerCount < limits.maxPeers else {
                swarms[infoHash] = swarm.peers.isEmpty ? nil : swarm
                return
            }
            peerCount += 1
        }
        swarm.peers[peer] = now
        swarms[infoHash] = swarm
    }

    /// Up to `limit` live peers of `family`, a random pick when there are more.
    public func peers<G: RandomNumberGenerator>(for infoHash: NodeID, family: IPAddress.Family, limit: Int,
                                                now: DHTInstant, using random: inout G) -> [NodeAddress] {
        guard limit > 0, let swarm = swarms[infoHash] else { return [] }
        var live = swarm.peers.compactMap { entry -> NodeAddress? in
            entry.key.family == family && now.since(entry.value) < limits.lifetime ? entry.key : nil
        }
        if live.count > limit {
            live.shuffle(using: &random)
            live.removeLast(live.count - limit)
        }
        return live
    }

    /// Up to `limit` stored infohashes, a random pick (BEP 51 samples).
    public func sample<G: RandomNumberGenerator>(limit: Int, using random: inout G) -> [NodeID] {
        var keys = Array(swarms.keys)
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
            swarm.peers = swarm.peers.filter { now.since($0.value) < limits.lifetime }
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
