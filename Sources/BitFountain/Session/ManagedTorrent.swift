import Identity
import Foundation
import Metainfo
import Swarm

/// What a session knows of one of its torrents, running or not (actor state).
/// The engine's `TorrentSession` exists only while the torrent runs; this
/// record outlives pauses and, in a persistent session, restarts.
struct ManagedTorrent: Sendable {
    let id: TorrentID
    let infoHash: InfoHash
    /// The info dictionary once known (from a .torrent, a publish, or peers).
    var info: TorrentInfo?
    /// The magnet link it was added by, if any (display name, `x.pe` peers).
    var magnet: MagnetLink?
    /// The directory the top item lives in.
    var savePath: String
    /// The top item's name on disk when it differs from the torrent's name (published content).
    var rootName: String?
    /// Content published from this machine: opened read-only, seeded in place.
    var published: Bool
    var category: String?
    var tags: [String]
    var fountain: Bool
    var peers: [PeerAddress]
    var paused: Bool
    var addedDate: Date
    var doneDate: Date?
    var error: String?
    var filePriorities: [FilePriority] = []
    var uploadLimit: Int?
    var downloadLimit: Int?
    /// Payload counted in earlier runs (before the last pause or restart).
    var downloadedBefore: Int64 = 0
    var uploadedBefore: Int64 = 0
    /// Verified bytes when it last ran (what a paused torrent shows).
    var lastHaveBytes: Int64 = 0

    /// The running engine session, nil while paused, failed or not yet started.
    var session: TorrentSession?
    /// A start (check of the files on disk) is under way.
    var checking = false
    /// The state last announced on the event stream.
    var lastState: TorrentState = .paused
    /// The newest engine numbers (refreshed by `list` and `snapshot`).
    var stats: TorrentStats?

    var name: String { info?.name ?? stats?.name ?? magnet?.displayName ?? infoHash.hex }

    /// Where the top item is (or will be) on disk.
    var contentPath: String? {
        guard let top = rootName ?? info?.name else { return nil }
        return (savePath as NSString).appendingPathComponent(top)
    }

    var state: TorrentState {
        if paused { return .paused }
        if error != nil { return .error }
        if checking { return .checking }
        guard session != nil else { return .paused }
        guard let stats else { return info == nil ? .downloadingMetadata : .downloading }
        if !stats.hasMetadata { return .downloadingMetadata }
        return stats.isComplete ? .seeding : .downloading
    }

    var magnetLink: MagnetLink {
        MagnetLink(infoHash: infoHash, displayName: info?.name ?? magnet?.displayName)
    }
}
