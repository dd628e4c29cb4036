/// One entry of `torrents/files`.
public struct QBFile: Sendable, Equatable {
    public var index: Int
    /// The path inside the torrent, `/`-separated, starting with the torrent's folder if any.
    public var name: String
    public var size: Int64
    public var progress: Double
    /// qBittorrent's priorities: 0 skip, 1 normal, 6 high, 7 maximal.
    public var priority: Int
    public var pieceRange: ClosedRange<Int>

    public init(index: Int, name: String, size: Int64, progress: Double, priority: Int, pieceRange: ClosedRange<Int>) {
        self.index = index
        self.name = name
        self.size = size
        self.progress = progress
        self.priority = priority
        self.pieceRange = pieceRange
    }

    public var fields: [String: JSONValue] {
        [
            "index": .int(Int64(index)),
            "name": .string(name),
            "size": .int(size),
            "progress": .double(progress),
            "priority": .int(Int64(priority)),
            "is_seed": .bool(progress >= 1),
            "piece_range": .array([.int(Int64(pieceRange.lowerBound)), .int(Int64(pieceRange.upperBound))]),
            "availability": .double(progress >= 1 ? 1 : -1),
        ]
    }
}

/// What `torrents/properties` adds to the list entry: the torrent's piece geometry.
public struct QBPieceInfo: Sendable, Equatable {
    public var pieceSize: Int64
    public var pieceCount: Int64
    public var piecesHave: Int64
    public var creationDate: Int64
    public var createdBy: String
    public var connections: Int64

    public init(pieceSize: Int64, pieceCount: Int64, piecesHave: Int64, creationDate: Int64 = -1,
                createdBy: String = "", connections: Int64 = 0) {
        self.pieceSize = pieceSize
        self.pieceCount = pieceCount
        self.piecesHave = piecesHave
        self.creationDate = creationDate
        self.createdBy = createdBy
        self.connections = connections
    }
}

extension QBTorrent {
    /// `torrents/properties` for this torrent; `now` is Unix seconds (for the elapsed times).
    public func properties(_ pieces: QBPieceInfo, now: Int64) -> [String: JSONValue] {
        let elapsed = max(0, now - addedOn)
        return [
            "hash": .string(hash),
            "infohash_v1": .string(hash),
            "infohash_v2": .string(""),
            "name": .string(name),
            "save_path": .string(savePath),
            "download_path": .string(""),
            "creation_date": .int(pieces.creationDate),
            "created_by": .string(pieces.createdBy),
            "comment": .string(comment),
            "piece_size": .int(pieces.pieceSize),
            "pieces_num": .int(pieces.pieceCount),
            "pieces_have": .int(pieces.piecesHave),
            "total_size": .int(totalSize),
            "total_wasted": .int(0),
            "total_uploaded": .int(uploaded),
            "total_uploaded_session": .int(uploadedSession),
            "total_downloaded": .int(downloaded),
            "total_downloaded_session": .int(downloadedSession),
            "up_limit": .int(upLimit == 0 ? -1 : upLimit),
            "dl_limit": .int(dlLimit == 0 ? -1 : dlLimit),
            "time_elapsed": .int(elapsed),
            "seeding_time": .int(seedingTime),
            "nb_connections": .int(pieces.connections),
            "nb_connections_limit": .int(-1),
            "share_ratio": .double(ratio),
            "addition_date": .int(addedOn),
            "completion_date": .int(completionOn),
            "last_seen": .int(progress >= 1 ? completionOn : -1),
            "dl_speed": .int(dlspeed),
            "up_speed": .int(upspeed),
            "dl_speed_avg": .int(elapsed > 0 ? downloaded / elapsed : 0),
            "up_speed_avg": .int(elapsed > 0 ? uploaded / elapsed : 0),
            "eta": .int(eta),
            "peers": .int(numLeechs),
            "peers_total": .int(numIncomplete),
            "seeds": .int(numSeeds),
            "seeds_total": .int(numComplete),
            "reannounce": .int(0),
            "isPrivate": .bool(isPrivate),
            "is_private": .bool(isPrivate),
            "has_metadata": .bool(state != .metaDL),
            "popularity": .int(0),
        ]
    }
}
