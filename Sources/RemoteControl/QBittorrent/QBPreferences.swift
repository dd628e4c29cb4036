/// `app/preferences` (read-only here). Sonarr and Radarr read the save path, the share-limit
/// settings (to decide when a finished torrent may be removed), `queueing_enabled` and `dht`;
/// the rest are what qBittorrent's clients commonly expect to find.
public struct QBPreferences: Sendable, Equatable {
    public var savePath: String
    public var listenPort: Int64
    /// Bytes per second, 0 for unlimited.
    public var downloadLimit: Int64
    public var uploadLimit: Int64
    public var maxConnections: Int64
    public var maxConnectionsPerTorrent: Int64
    public var webUIAddress: String
    public var webUIPort: Int64
    public var bypassLocalAuth: Bool
    /// The global share-ratio limit; nil: none.
    public var maxRatio: Double?
    /// The alternative limits, bytes per second, 0 for none.
    public var altDownloadLimit: Int64
    public var altUploadLimit: Int64

    public init(savePath: String, listenPort: Int64 = 0, downloadLimit: Int64 = 0, uploadLimit: Int64 = 0,
                maxConnections: Int64 = -1, maxConnectionsPerTorrent: Int64 = -1, webUIAddress: String = "127.0.0.1",
                webUIPort: Int64 = 0, bypassLocalAuth: Bool = false, maxRatio: Double? = nil, altDownloadLimit: Int64 = 0,
                altUploadLimit: Int64 = 0) {
        self.savePath = savePath
        self.listenPort = listenPort
        self.downloadLimit = downloadLimit
        self.uploadLimit = uploadLimit
        self.maxConnections = maxConnections
        self.maxConnectionsPerTorrent = maxConnectionsPerTorrent
        self.webUIAddress = webUIAddress
        self.webUIPort = webUIPort
        self.bypassLocalAuth = bypassLocalAuth
        self.maxRatio = maxRatio
        self.altDownloadLimit = altDownloadLimit
        self.altUploadLimit = altUploadLimit
    }

    public var fields: [String: JSONValue] {
        [
            "save_path": .string(savePath),
            "temp_path_enabled": .bool(false),
            "temp_path": .string(""),
            "torrent_content_layout": .string("Original"),
            "create_subfolder_enabled": .bool(true),
            "add_stopped_enabled": .bool(false),
            "start_paused_enabled": .bool(false),
            "auto_tmm_enabled": .bool(false),
            "max_ratio_enabled": .bool(maxRatio != nil),
            "max_ratio": .double(maxRatio ?? -1),
            "max_seeding_time_enabled": .bool(false),
            "max_seeding_time": .int(-1),
            "max_inactive_seeding_time_enabled": .bool(false),
            "max_inactive_seeding_time": .int(-1),
            "max_ratio_act": .int(0),
            "queueing_enabled": .bool(false),
            "max_active_downloads": .int(-1),
            "max_active_uploads": .int(-1),
            "max_active_torrents": .int(-1),
            "dht": .bool(true),
            "pex": .bool(true),
            "lsd": .bool(true),
            "encryption": .int(0),
            "listen_port": .int(listenPort),
            "dl_limit": .int(downloadLimit),
            "up_limit": .int(uploadLimit),
            "alt_dl_limit": .int(altDownloadLimit),
            "alt_up_limit": .int(altUploadLimit),
            "max_connec": .int(maxConnections),
            "max_connec_per_torrent": .int(maxConnectionsPerTorrent),
            "web_ui_address": .string(webUIAddress),
            "web_ui_port": .int(webUIPort),
            "bypass_local_auth": .bool(bypassLocalAuth),
            "locale": .string("en"),
        ]
    }
}
