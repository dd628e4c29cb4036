import BitFountain

/// `session-get` and `session-stats` replies, in Transmission 3.00's names
/// (RPC version 16). Speeds in kB/s of 1000 bytes, as `units` says.
enum TransmissionSessionFields {
    static let rpcVersion: Int64 = 16

    /// `sessionRatio`: the ratio shown while the session's limit is off (the last one set).
    static func sessionGet(settings: SessionSettings, limits: TransmissionTorrentLimits, sessionRatio: Double,
                           configDirectory: String, sessionID: String, configuration: SessionConfiguration) -> [String: JSONValue] {
        [
            "version": "3.00 (BitFountain)", "rpc-version": .int(rpcVersion), "rpc-version-minimum": 1,
            "session-id": .string(sessionID), "config-dir": .string(configDirectory),
            "download-dir": .string(settings.defaultSavePath),
            "speed-limit-down": .int(limits.downloadKilobytes), "speed-limit-down-enabled": .bool(limits.downloadLimited),
            "speed-limit-up": .int(limits.uploadKilobytes), "speed-limit-up-enabled": .bool(limits.uploadLimited),
            "alt-speed-enabled": .bool(settings.altSpeedEnabled), "alt-speed-down": .int(Int64(settings.altDownloadLimit / 1000)),
            "alt-speed-up": .int(Int64(settings.altUploadLimit / 1000)), "alt-speed-time-enabled": false,
            "alt-speed-time-begin": 540, "alt-speed-time-end": 1020, "alt-speed-time-day": 127,
            "peer-port": .int(Int64(settings.port)), "peer-port-random-on-start": false,
            "peer-limit-global": .int(Int64(settings.maxConnections)),
            "peer-limit-per-torrent": .int(Int64(settings.maxPeersPerTorrent)),
            "encryption": .string(encryptionName(settings.encryption)),
            "dht-enabled": .bool(configuration.dht), "pex-enabled": .bool(configuration.pex),
            "lpd-enabled": .bool(configuration.localServiceDiscovery), "utp-enabled": true,
            "port-forwarding-enabled": .bool(configuration.portMapping),
            "seedRatioLimit": .double(settings.seedRatioLimit ?? sessionRatio),
            "seedRatioLimited": .bool(settings.seedRatioLimit != nil), "idle-seeding-limit": 30,
            "idle-seeding-limit-enabled": false, "start-added-torrents": true, "download-queue-enabled": false,
            "download-queue-size": 5, "seed-queue-enabled": false, "seed-queue-size": 10, "queue-stalled-enabled": false,
            "incomplete-dir-enabled": false, "incomplete-dir": .string(settings.defaultSavePath),
            "rename-partial-files": false, "blocklist-enabled": false, "blocklist-size": 0, "blocklist-url": "",
            "cache-size-mb": 4, "script-torrent-done-enabled": false, "script-torrent-done-filename": "",
            "trash-original-torrent-files": false,
            "units": .object([
                "speed-units": .array(["kB/s", "MB/s", "GB/s", "TB/s"]), "speed-bytes": 1000,
                "size-units": .array(["kB", "MB", "GB", "TB"]), "size-bytes": 1000,
                "memory-units": .array(["KiB", "MiB", "GiB", "TiB"]), "memory-bytes": 1024,
            ]),
        ]
    }

    static func encryptionName(_ policy: EncryptionPolicy) -> String {
        switch policy {
        case .prefer: return "preferred"
        case .require: return "required"
        case .disable: return "tolerated"
        }
    }

    static func sessionStats(_ torrents: [TorrentSnapshot], secondsActive: Int64) -> [String: JSONValue] {
        let active = torrents.filter { $0.downloadRate > 0 || $0.uploadRate > 0 }.count
        let paused = torrents.filter { $0.state == .paused }.count
        let uploaded = torrents.reduce(Int64(0)) { $0 + $1.uploadedEver }
        let downloaded = torrents.reduce(Int64(0)) { $0 + $1.downloadedEver }
        let totals: JSONValue = .object([
            "uploadedBytes": .int(uploaded), "downloadedBytes": .int(downloaded), "filesAdded": .int(Int64(torrents.count)),
            "sessionCount": 1, "secondsActive": .int(secondsActive),
        ])
        return [
            "activeTorrentCount": .int(Int64(active)), "pausedTorrentCount": .int(Int64(paused)),
            "torrentCount": .int(Int64(torrents.count)),
            "downloadSpeed": .int(Int64(torrents.reduce(0) { $0 + $1.downloadRate })),
            "uploadSpeed": .int(Int64(torrents.reduce(0) { $0 + $1.uploadRate })),
            "cumulative-stats": totals, "current-stats": totals,
        ]
    }
}
