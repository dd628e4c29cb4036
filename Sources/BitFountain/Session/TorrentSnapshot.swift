import Foundation
import Metainfo

/// Where a torrent is in its life.
public enum TorrentState: String, Sendable, Codable, CaseIterable {
    /// Finding out which pieces are on disk (a recheck, or a first start without resume data).
    case checking
    /// A magnet link waiting for the info dictionary from peers.
    case downloadingMetadata
    case downloading
    /// Every wanted piece is verified on disk; serving peers.
    case seeding
    /// Stopped by the user: no connections, no announces.
    case paused
    /// Stopped by a failure (`TorrentSnapshot.error` says which).
    case error
}

/// bf_fountain numbers for one torrent.
public struct FountainStats: Sendable, Equatable {
    /// Repair symbols received and used, pieces rebuilt from symbols.
    public var symbolsReceived: Int
    public var piecesDecoded: Int
    /// Repair symbols served to BitFountain peers.
    public var symbolsServed: Int
    /// Wrong symbols found (their senders are banned).
    public var pollutedSymbols: Int
    /// Whether a connected peer speaks bf_fountain right now.
    public var fountainPeers: Int

    public init(symbolsReceived: Int = 0, piecesDecoded: Int = 0, symbolsServed: Int = 0, pollutedSymbols: Int = 0, fountainPeers: Int = 0) {
        self.symbolsReceived = symbolsReceived
        self.piecesDecoded = piecesDecoded
        self.symbolsServed = symbolsServed
        self.pollutedSymbols = pollutedSymbols
        self.fountainPeers = fountainPeers
    }

    /// Whether any connected peer speaks bf_fountain.
    public var anyPeerSpeaksFountain: Bool { fountainPeers > 0 }
}

/// A moment's view of one torrent of a session (`Session.list`, `snapshot`).
public struct TorrentSnapshot: Sendable, Identifiable {
    public var id: TorrentID
    public var infoHash: InfoHash
    /// The torrent's name; the magnet's `dn` or the infohash until the metadata arrives.
    public var name: String
    public var state: TorrentState
    public var hasMetadata: Bool
    public var totalBytes: Int64
    /// Verified bytes on disk, bytes of the files not skipped, and how many
    /// of those are verified (pieces shared with skipped files put some
    /// verified bytes outside them): size when done = `bytesWanted`, left
    /// until done = `bytesWanted - bytesWantedHave`.
    public var bytesHave: Int64
    public var bytesWanted: Int64
    public var bytesWantedHave: Int64
    /// 0...1 of the wanted bytes.
    public var progress: Double
    public var pieceCount: Int
    public var piecesHave: Int
    /// Payload bytes per second now.
    public var downloadRate: Double
    public var uploadRate: Double
    public var peersConnected: Int
    /// Connected peers that have every piece.
    public var seedsConnected: Int
    /// Seconds to completion at the current rate; nil when unknown or done.
    public var eta: Double?
    /// Payload bytes over the torrent's life in this session (restarts included).
    public var downloadedEver: Int64
    public var uploadedEver: Int64
    /// uploadedEver / max(downloadedEver, bytesHave) — what clients call the share ratio.
    public var ratio: Double
    public var hashFailures: Int
    /// Peers that sent at least one block in this run.
    public var peersContributed: Int
    /// Payload received but not needed (endgame duplicates, symbols that came too late), this run.
    public var wastedBytes: Int64
    /// Seconds from the start of this run to its first payload byte, once there is one.
    public var firstPayloadSeconds: Double?
    public var addedDate: Date
    public var doneDate: Date?
    public var savePath: String
    /// The top file or directory on disk (nil before the metadata).
    public var contentPath: String? { topItem.map { (savePath as NSString).appendingPathComponent($0) } }
    /// The name of that top item (`contentPath` is made from it when asked, not for every torrent of a list).
    public var topItem: String?
    public var category: String?
    public var tags: [String]
    public var error: String?
    public var fountainEnabled: Bool
    public var fountain: FountainStats
    /// A magnet link for the torrent (with its name when known).
    public var magnetLink: String { magnet.uri }
    /// The same as a value; the text is made only when asked (making it for
    /// every torrent was a good part of what `Session.list` cost).
    public var magnet: MagnetLink
    /// True for content published from this machine (`TorrentSource.publish`).
    public var isPublished: Bool
    /// The torrent's own limits in bytes per second (`Session.setLimits`); nil: only the global ones apply.
    public var uploadLimit: Int?
    public var downloadLimit: Int?
    /// When it stops seeding (`Session.setSeedRatioLimit`).
    public var seedRatioLimit: SeedRatioLimit
}

/// A connected peer of a torrent (`Session.peers`).
public struct PeerSnapshot: Sendable {
    public enum Transport: String, Sendable { case tcp, utp }
    public var address: String
    /// The client's name, from its peer id or its extension handshake's `v`.
    public var client: String
    public var downloadRate: Double
    public var uploadRate: Double
    public var downloaded: Int64
    public var uploaded: Int64
    /// 0...1; 1 for a seed, 0 when it has not said.
    public var progress: Double
    public var isSeed: Bool
    public var encrypted: Bool
    public var incoming: Bool
    public var speaksFountain: Bool
    public var transport: Transport
    public var choked: Bool
    public var interested: Bool
}

/// One file of a torrent (`Session.files`).
public struct FileSnapshot: Sendable {
    public var index: Int
    /// Path inside the torrent, components joined with "/".
    public var path: String
    public var length: Int64
    /// Bytes of verified pieces inside this file.
    public var bytesHave: Int64
    public var priority: FilePriority
}
