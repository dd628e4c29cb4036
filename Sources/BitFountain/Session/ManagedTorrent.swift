import Identity
import Foundation
import Metainfo
import Swarm

/// What a session knows of one of its torrents, running or not (actor state).
/// The engine's `TorrentSession` exists only while the torrent runs; this
/// record outlives pauses and, in a persistent session, restarts.
/// `torrent.savePath` and the other fields of `Kept` read and write `kept`.
@dynamicMemberLookup
struct ManagedTorrent: Sendable {
    let id: TorrentID
    let infoHash: InfoHash
    /// The info dictionary once known (from a .torrent, a publish, or peers).
    var info: TorrentInfo?
    /// The magnet link it was added by, if any (display name, `x.pe` peers).
    var magnet: MagnetLink?
    var peers: [PeerAddress]
    /// What is kept across restarts, as the store writes it (`SessionStore.Record`).
    var kept: Kept
    var error: String?

    /// The running engine session, nil while paused, failed or not yet started.
    var session: TorrentSession?
    /// A start (check of the files on disk) is under way.
    var checking = false
    /// The state last announced on the event stream.
    var lastState: TorrentState = .paused
    /// The newest engine numbers (refreshed by `list` and `snapshot`).
    var stats: TorrentStats?

    subscript<Value>(dynamicMember field: WritableKeyPath<Kept, Value>) -> Value {
        get { kept[keyPath: field] }
        set { kept[keyPath: field] = newValue }
    }

    var name: String { info?.name ?? stats?.name ?? magnet?.displayName ?? infoHash.hex }

    /// The top item's name on disk (nil before the metadata).
    var topItem: String? { kept.rootName ?? info?.name }

    /// Where the top item is (or will be) on disk.
    var contentPath: String? {
        guard let top = topItem else { return nil }
        return (kept.savePath as NSString).appendingPathComponent(top)
    }

    var state: TorrentState {
        if kept.paused { return .paused }
        if error != nil { return .error }
        if checking { return .checking }
        guard session != nil else { return .paused }
        // Read through `stats?`: bound to a name, the numbers were copied (references retained).
        guard let hasMetadata = stats?.hasMetadata else { return info == nil ? .downloadingMetadata : .downloading }
        if !hasMetadata { return .downloadingMetadata }
        return stats?.isComplete == true ? .seeding : .downloading
    }

    /// Takes a running torrent's newest engine numbers; returns the state
    /// change they bring, if any, for the caller to announce (nil: not running, or no change).
    mutating func take(_ newStats: TorrentStats) -> (from: TorrentState, to: TorrentState)? {
        guard session != nil else { return nil }
        stats = newStats
        let now = state
        guard now != lastState else { return nil }
        defer { lastState = now }
        return (lastState, now)
    }

    var magnetLink: MagnetLink {
        MagnetLink(infoHash: infoHash, displayName: info?.name ?? magnet?.displayName)
    }
}

extension ManagedTorrent {
    /// The part of a torrent's record that outlives the process: what the
    /// user chose for it and what it has done. Its JSON keys are those of the
    /// stored records.
    struct Kept: Codable, Sendable {
        /// The directory the top item lives in.
        var savePath: String
        /// The top item's name on disk when it differs from the torrent's name (published content).
        var rootName: String?
        /// Content published from this machine: opened read-only, seeded in place.
        var published: Bool
        var category: String?
        var tags: [String]
        var fountain: Bool
        var paused: Bool
        var addedDate: Date
        var doneDate: Date?
        /// One per file, or empty while every file is normal (most torrents: no array of
        /// their own to allocate, and none to look into for a skipped file).
        var filePriorities: [FilePriority] = []
        var uploadLimit: Int?
        var downloadLimit: Int?
        /// When it stops seeding; nil: at the session's limit (`SeedRatioLimit.global`).
        var seedRatio: SeedRatioLimit?
        /// Payload counted in earlier runs (before the last pause or restart).
        var downloadedBefore: Int64 = 0
        var uploadedBefore: Int64 = 0
        /// Verified bytes when it last ran (what a paused torrent shows).
        var lastHaveBytes: Int64 = 0

        enum CodingKeys: String, CodingKey {
            case savePath, rootName, published, category, tags, fountain, paused, addedDate, doneDate, filePriorities
            case uploadLimit, downloadLimit, seedRatio
            case downloadedBefore = "downloaded", uploadedBefore = "uploaded", lastHaveBytes = "haveBytes"
        }
    }

    init(id: TorrentID, infoHash: InfoHash, info: TorrentInfo?, magnet: MagnetLink?, savePath: String, rootName: String?,
         published: Bool, category: String?, tags: [String], fountain: Bool, peers: [PeerAddress], paused: Bool, addedDate: Date) {
        self.init(id: id, infoHash: infoHash, info: info, magnet: magnet, peers: peers,
                  kept: Kept(savePath: savePath, rootName: rootName, published: published, category: category, tags: tags,
                             fountain: fountain, paused: paused, addedDate: addedDate))
    }
}
