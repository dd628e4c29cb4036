/// The node-wide numbers of `transfer/info` and `sync/maindata`'s `server_state`.
public struct QBServerState: Sendable, Equatable {
    public var downloadRate: Int64 = 0
    public var uploadRate: Int64 = 0
    public var downloadedSession: Int64 = 0
    public var uploadedSession: Int64 = 0
    /// 0 means unlimited, as in qBittorrent.
    public var downloadLimit: Int64 = 0
    /// The alternative limits are in force (`downloadLimit` and `uploadLimit` are then theirs).
    public var altSpeedEnabled = false
    public var uploadLimit: Int64 = 0
    public var dhtNodes: Int64 = 0
    public var peerConnections: Int64 = 0
    public var freeSpaceOnDisk: Int64 = 0
    /// "connected" once the DHT has nodes; a trackerless node has no other way to be reachable.
    public var connectionStatus: String { dhtNodes > 0 ? "connected" : "disconnected" }

    public init() {}

    /// `transfer/info`.
    public var transferInfo: [String: JSONValue] {
        [
            "dl_info_speed": .int(downloadRate),
            "dl_info_data": .int(downloadedSession),
            "up_info_speed": .int(uploadRate),
            "up_info_data": .int(uploadedSession),
            "dl_rate_limit": .int(downloadLimit),
            "up_rate_limit": .int(uploadLimit),
            "dht_nodes": .int(dhtNodes),
            "connection_status": .string(connectionStatus),
        ]
    }

    /// `sync/maindata`'s `server_state`: transfer/info plus the fields qBittorrent's own UI reads.
    public var fields: [String: JSONValue] {
        transferInfo.merging([
            "queueing": .bool(false),
            "use_alt_speed_limits": .bool(altSpeedEnabled),
            "refresh_interval": .int(1500),
            "free_space_on_disk": .int(freeSpaceOnDisk),
            "total_peer_connections": .int(peerConnections),
            "alltime_dl": .int(downloadedSession),
            "alltime_ul": .int(uploadedSession),
        ]) { first, _ in first }
    }
}

/// A qBittorrent category: a name and the save path torrents in it default to.
public struct QBCategory: Sendable, Equatable, Codable {
    public var name: String
    public var savePath: String

    public init(name: String, savePath: String) {
        self.name = name
        self.savePath = savePath
    }

    var json: JSONValue { .object(["name": .string(name), "savePath": .string(savePath)]) }
}
