/// Where the node finds peers. A trackerless torrent has no trackers; qBittorrent lists its DHT,
/// PeX and LSD as pseudo-trackers at the top of `torrents/trackers`, and tools that check a
/// torrent's trackers (cross-seed, autobrr, qbit_manage) read those rows.
public struct QBPeerSources: Sendable, Equatable {
    public var dht: Bool
    public var pex: Bool
    public var lsd: Bool

    public init(dht: Bool, pex: Bool, lsd: Bool) {
        self.dht = dht
        self.pex = pex
        self.lsd = lsd
    }

    /// qBittorrent's tracker statuses: 0 disabled, 2 working.
    static let disabled: Int64 = 0
    static let working: Int64 = 2

    /// The rows, as qBittorrent writes them: tier -1, and -1 for the counts it does not know
    /// per source (nor does this node: it counts its peers, not where each came from).
    public var trackerRows: [JSONValue] {
        [("** [DHT] **", dht), ("** [PeX] **", pex), ("** [LSD] **", lsd)].map { url, enabled in
            .object([
                "url": .string(url), "status": .int(enabled ? Self.working : Self.disabled), "tier": .int(-1),
                "num_peers": .int(-1), "num_seeds": .int(-1), "num_leeches": .int(-1), "num_downloaded": .int(-1),
                "msg": .string(""),
            ])
        }
    }
}
