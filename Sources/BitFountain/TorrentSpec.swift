import Identity
import Metainfo
import Swarm

/// What to run a torrent session for.
public struct TorrentSpec: Sendable {
    public enum Content: Sendable {
        /// Metadata known (a .torrent, or content we publish).
        case info(TorrentInfo)
        /// Only the infohash: the metadata comes from peers (BEP 9).
        case magnet(MagnetLink)
    }

    public var content: Content
    /// The directory the torrent's top item lives in: `-o DIR` for downloads,
    /// the content's parent directory when seeding.
    public var directory: String
    /// The top item's name on disk when it differs from the torrent's `name` (seeding a renamed file).
    public var rootName: String?
    /// True for content the user publishes: opened read-only, never written.
    public var seedingExistingContent: Bool
    /// Peers to dial at once (`--peer`, magnet `x.pe`), resolved at the command-line edge.
    public var peers: [PeerAddress]
    /// Speak bf_fountain for this torrent; nil: the node's default (`SwarmNode.Options.fountain`).
    public var fountain: Bool?
    /// Seconds before the first announce and lookup: a session restoring thousands
    /// of torrents spreads them out instead of flooding the DHT in one second.
    public var discoveryDelay: Double
    /// One class per file (0 skip, 1 normal, 2 high; `PiecePriorities`), nil: every file normal.
    public var filePriorities: [UInt8]?
    /// This torrent's own limits in bytes per second, beside the node's (nil: none).
    public var uploadLimit: Int?
    public var downloadLimit: Int?

    public init(content: Content, directory: String, rootName: String? = nil,
                seedingExistingContent: Bool, peers: [PeerAddress] = [], fountain: Bool? = nil, discoveryDelay: Double = 0,
                filePriorities: [UInt8]? = nil, uploadLimit: Int? = nil, downloadLimit: Int? = nil) {
        self.content = content
        self.filePriorities = filePriorities
        self.uploadLimit = uploadLimit
        self.downloadLimit = downloadLimit
        self.fountain = fountain
        self.discoveryDelay = discoveryDelay
        self.directory = directory
        self.rootName = rootName
        self.seedingExistingContent = seedingExistingContent
        self.peers = peers
    }

    public var infoHash: InfoHash {
        switch content {
        case .info(let info): return info.infoHash
        case .magnet(let link): return link.infoHash
        }
    }
}

/// A moment's numbers of one running torrent session, as the engine counts
/// them (`Session` turns them into `TorrentSnapshot`s for its users).
public struct TorrentStats: Sendable {
    public let infoHash: InfoHash
    public let name: String?
    public let hasMetadata: Bool
    public let totalBytes: Int64
    public let verifiedBytes: Int64
    /// Bytes of the files not skipped, and how many of them are verified.
    public let wantedBytes: Int64
    public let wantedVerifiedBytes: Int64
    public let pieceCount: Int
    public let piecesVerified: Int
    public let downloadRate: Double
    public let uploadRate: Double
    public let downloadedPayload: Int64
    public let uploadedPayload: Int64
    public let hashFailures: Int
    public let connectedPeers: Int
    /// Connected peers worth having (see `TorrentMachine.usefulPeerCount`): what decides how soon to look for more.
    public let usefulPeers: Int
    /// Peers that ever sent us a block in this session.
    public let peersContributed: Int
    public let isComplete: Bool
    public let peers: [PeerStats]
    /// bf_fountain: repair symbols received and used, pieces rebuilt from
    /// symbols, symbols served, wrong symbols found; bytes received that were not needed.
    public let repairSymbolsReceived: Int
    public let piecesDecoded: Int
    public let symbolsUploaded: Int
    public let pollutedSymbols: Int
    public let wastedBytes: Int64
    /// Seconds from adding the torrent to the first payload byte, once there is one.
    public let firstPayloadSeconds: Double?
}

/// Why a session stopped before finishing.
public struct SessionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
