/// One torrent as qBittorrent's `torrents/info` describes it. The daemon fills it from a
/// `Session` snapshot; everything here is plain values so that filters, sorting and the
/// `sync/maindata` deltas are pure functions.
public struct QBTorrent: Sendable, Equatable {
    /// qBittorrent's "no ETA" value (100 days), which clients treat as infinity.
    public static let infiniteETA: Int64 = 8_640_000

    public var hash: String
    public var name: String
    public var state: QBTorrentState
    public var progress: Double
    /// Bytes selected for download, and the torrent's whole size.
    public var size: Int64
    public var totalSize: Int64
    public var completed: Int64
    public var downloaded: Int64
    public var uploaded: Int64
    public var downloadedSession: Int64
    public var uploadedSession: Int64
    public var dlspeed: Int64
    public var upspeed: Int64
    public var dlLimit: Int64
    public var upLimit: Int64
    public var eta: Int64
    public var numSeeds: Int64
    public var numLeechs: Int64
    public var numComplete: Int64
    public var numIncomplete: Int64
    public var category: String
    public var tags: [String]
    public var savePath: String
    public var contentPath: String
    public var addedOn: Int64
    public var completionOn: Int64
    public var lastActivity: Int64
    public var timeActive: Int64
    public var seedingTime: Int64
    public var magnetURI: String
    public var comment: String
    public var isPrivate: Bool
    /// Whether at least one connected peer speaks bf_fountain (a BitFountain field, prefixed).
    public var fountainPeers: Int64
    /// The torrent's share-ratio setting (-2 the global limit, -1 none, else its own ratio) and
    /// the limit in force (-1: none).
    public var ratioLimit: Double = -2
    public var maxRatio: Double = -1

    public init(hash: String, name: String, state: QBTorrentState) {
        self.hash = hash
        self.name = name
        self.state = state
        progress = 0
        size = 0
        totalSize = 0
        completed = 0
        downloaded = 0
        uploaded = 0
        downloadedSession = 0
        uploadedSession = 0
        dlspeed = 0
        upspeed = 0
        dlLimit = 0
        upLimit = 0
        eta = Self.infiniteETA
        numSeeds = 0
        numLeechs = 0
        numComplete = 0
        numIncomplete = 0
        category = ""
        tags = []
        savePath = ""
        contentPath = ""
        addedOn = 0
        completionOn = -1
        lastActivity = 0
        timeActive = 0
        seedingTime = 0
        magnetURI = ""
        comment = ""
        isPrivate = false
        fountainPeers = 0
    }

    /// qBittorrent's share ratio: uploaded over downloaded, or over the size for a torrent that
    /// was seeded from local data and never downloaded anything.
    public var ratio: Double {
        let base = downloaded > 0 ? downloaded : (progress >= 1 ? totalSize : 0)
        return base > 0 ? Double(uploaded) / Double(base) : 0
    }

    /// The object `torrents/info` returns (and `sync/maindata` keys by hash, without `hash`).
    public var fields: [String: JSONValue] {
        [
            "hash": .string(hash),
            "infohash_v1": .string(hash),
            "infohash_v2": .string(""),
            "name": .string(name),
            "state": .string(state.rawValue),
            "progress": .double(progress),
            "size": .int(size),
            "total_size": .int(totalSize),
            "completed": .int(completed),
            "amount_left": .int(max(0, size - completed)),
            "downloaded": .int(downloaded),
            "uploaded": .int(uploaded),
            "downloaded_session": .int(downloadedSession),
            "uploaded_session": .int(uploadedSession),
            "dlspeed": .int(dlspeed),
            "upspeed": .int(upspeed),
            "dl_limit": .int(dlLimit),
            "up_limit": .int(upLimit),
            "eta": .int(eta),
            "num_seeds": .int(numSeeds),
            "num_leechs": .int(numLeechs),
            "num_complete": .int(numComplete),
            "num_incomplete": .int(numIncomplete),
            "ratio": .double(ratio),
            "category": .string(category),
            "tags": .string(tags.joined(separator: ", ")),
            "save_path": .string(savePath),
            "download_path": .string(""),
            "content_path": .string(contentPath),
            "root_path": .string(contentPath),
            "added_on": .int(addedOn),
            "completion_on": .int(completionOn),
            "last_activity": .int(lastActivity),
            "time_active": .int(timeActive),
            "seeding_time": .int(seedingTime),
            "seen_complete": .int(progress >= 1 ? completionOn : -1),
            "magnet_uri": .string(magnetURI),
            "comment": .string(comment),
            "private": .bool(isPrivate),
            "tracker": .string(""),
            "trackers_count": .int(0),
            "availability": .double(progress >= 1 ? 1 : -1),
            "priority": .int(0),
            "auto_tmm": .bool(false),
            "force_start": .bool(false),
            "seq_dl": .bool(false),
            "f_l_piece_prio": .bool(false),
            "super_seeding": .bool(false),
            "max_ratio": .double(maxRatio),
            "max_seeding_time": .int(-1),
            "max_inactive_seeding_time": .int(-1),
            "ratio_limit": .double(ratioLimit),
            "seeding_time_limit": .int(-2),
            "inactive_seeding_time_limit": .int(-2),
            "popularity": .int(0),
            "reannounce": .int(0),
            "has_metadata": .bool(state != .metaDL && state != .forcedMetaDL),
            "bf_fountain_peers": .int(fountainPeers),
        ]
    }
}
