/// The `state` strings of qBittorrent's torrent list (WebAPI 2.11, qBittorrent 5: "stopped*"
/// replaced "paused*"; Sonarr, Radarr and qbittorrent-api know both spellings).
public enum QBTorrentState: String, Sendable, CaseIterable {
    case error
    case missingFiles
    case uploading
    case stoppedUP
    case queuedUP
    case stalledUP
    case checkingUP
    case forcedUP
    case allocating
    case downloading
    case metaDL
    case forcedMetaDL
    case stoppedDL
    case queuedDL
    case stalledDL
    case checkingDL
    case forcedDL
    case checkingResumeData
    case moving
    case unknown

    /// The engine-side facts a state string is derived from; kept small so the mapping is one
    /// pure function that any snapshot type can feed.
    public struct Facts: Sendable, Equatable {
        public var stopped: Bool
        public var checking: Bool
        public var hasMetadata: Bool
        public var complete: Bool
        public var errored: Bool
        /// Bytes moving in either direction right now (qBittorrent's "active" vs "stalled").
        public var transferring: Bool

        public init(stopped: Bool, checking: Bool, hasMetadata: Bool, complete: Bool, errored: Bool,
                    transferring: Bool) {
            self.stopped = stopped
            self.checking = checking
            self.hasMetadata = hasMetadata
            self.complete = complete
            self.errored = errored
            self.transferring = transferring
        }
    }

    public init(_ facts: Facts) {
        if facts.errored { self = .error; return }
        if facts.checking { self = facts.complete ? .checkingUP : .checkingDL; return }
        if facts.stopped { self = facts.complete ? .stoppedUP : .stoppedDL; return }
        if !facts.hasMetadata { self = .metaDL; return }
        if facts.complete { self = facts.transferring ? .uploading : .stalledUP; return }
        self = facts.transferring ? .downloading : .stalledDL
    }

    var isStopped: Bool { self == .stoppedUP || self == .stoppedDL }
    var isChecking: Bool { self == .checkingUP || self == .checkingDL || self == .checkingResumeData }
    var isDownloadSide: Bool {
        switch self {
        case .downloading, .metaDL, .forcedMetaDL, .stoppedDL, .queuedDL, .stalledDL, .checkingDL, .forcedDL,
             .allocating:
            true
        default:
            false
        }
    }
    var isUploadSide: Bool {
        switch self {
        case .uploading, .stoppedUP, .queuedUP, .stalledUP, .checkingUP, .forcedUP: true
        default: false
        }
    }
}
