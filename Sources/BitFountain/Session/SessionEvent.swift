import Metainfo

/// What a session tells its user, in the order it happened, on `Session.events`.
public enum SessionEvent: Sendable {
    /// The session listens: TCP `port` for peers, the DHT on UDP `dhtPort` (nil: no DHT).
    case listening(port: UInt16, dhtPort: UInt16?)
    case added(TorrentID, infoHash: InfoHash, name: String)
    /// A persistent session's stored torrents are back, all of them in one event
    /// (a state directory may hold ten thousand; each one is not news).
    case restored([RestoredTorrent])
    /// A magnet link's info dictionary arrived and verified, `seconds` after the torrent started.
    case metadataReceived(TorrentID, name: String, totalBytes: Int64, seconds: Double)
    case stateChanged(TorrentID, from: TorrentState, to: TorrentState)
    /// Every wanted piece is verified on disk.
    case completed(TorrentID)
    case removed(TorrentID, infoHash: InfoHash, dataDeleted: Bool)
    /// A torrent stopped on a failure (disk full, files gone); it is in state `.error`.
    case error(TorrentID, String)
    case peerBanned(TorrentID, address: String, reason: String)
    /// A seed reached its share-ratio limit (`SeedRatioLimit`) and was paused.
    case seedLimitReached(TorrentID, ratio: Double)
    /// An announce landed on `nodes` DHT nodes.
    case announced(TorrentID, nodes: Int)
    /// NAT-PMP: the router's answer (external address, a mapping made, a failure).
    case portMapping(PortMappingEvent)
    /// Something worth a line in a log that stops nothing.
    case warning(String)
}

/// One torrent a persistent session brought back from its state directory at start.
public struct RestoredTorrent: Sendable, Equatable {
    public var id: TorrentID
    public var infoHash: InfoHash
    public var name: String

    public init(id: TorrentID, infoHash: InfoHash, name: String) {
        self.id = id
        self.infoHash = infoHash
        self.name = name
    }
}
