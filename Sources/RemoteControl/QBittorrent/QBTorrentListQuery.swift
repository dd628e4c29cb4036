/// The parameters of `torrents/info` (and the hash selection of `sync/maindata`), decoded once
/// from a request's parameters, then applied to a list of torrents as one pure function.
public struct QBTorrentListQuery: Sendable, Equatable {
    public enum Filter: String, Sendable, CaseIterable {
        case all, downloading, seeding, completed, stopped, running, active, inactive, stalled
        case stalledUploading = "stalled_uploading"
        case stalledDownloading = "stalled_downloading"
        case checking, moving, errored

        /// Accepts qBittorrent 4's names for the same filters (Sonarr still sends them).
        init?(parameter: String) {
            switch parameter {
            case "paused": self = .stopped
            case "resumed": self = .running
            default: self.init(rawValue: parameter)
            }
        }
    }

    public var filter: Filter = .all
    /// nil: any category; "": torrents without one.
    public var category: String?
    /// nil: any tag; "": untagged torrents.
    public var tag: String?
    public var hashes: Set<String>?
    public var sort: String?
    public var reverse = false
    public var limit: Int?
    public var offset = 0

    public init() {}

    public init(_ parameters: QBParameters) throws(QBRequestError) {
        if let filter = parameters["filter"] {
            guard let parsed = Filter(parameter: filter) else { throw .badParameter("filter", filter) }
            self.filter = parsed
        }
        category = parameters["category"]
        tag = parameters["tag"]
        hashes = parameters.hashes("hashes")
        sort = parameters["sort"].flatMap { $0.isEmpty ? nil : $0 }
        reverse = parameters.bool("reverse") ?? false
        limit = try parameters.int("limit").map { value throws(QBRequestError) in
            guard value >= 0 else { throw .badParameter("limit", String(value)) }
            return value
        }
        offset = try parameters.int("offset") ?? 0
    }

    public func apply(to torrents: [QBTorrent]) -> [QBTorrent] {
        var selected = torrents.filter { torrent in
            matches(filter, torrent)
                && (category.map { torrent.category == $0 } ?? true)
                && (tag.map { $0.isEmpty ? torrent.tags.isEmpty : torrent.tags.contains($0) } ?? true)
                && (hashes.map { $0.contains(torrent.hash) } ?? true)
        }
        if let sort {
            // Stable: equal keys keep the list's order (by hash) so paging is deterministic.
            let keyed = selected.map { ($0, $0.fields[sort] ?? .null) }
            selected = keyed.enumerated().sorted { lhs, rhs in
                if JSONValue.ascending(lhs.element.1, rhs.element.1) { return true }
                if JSONValue.ascending(rhs.element.1, lhs.element.1) { return false }
                return lhs.offset < rhs.offset
            }.map(\.element.0)
        }
        if reverse { selected.reverse() }
        // qBittorrent: a negative offset counts from the end.
        let start = offset < 0 ? max(0, selected.count + offset) : min(offset, selected.count)
        // `limit` is a client's number up to Int.max: compare it with what is left, never add it to `start`.
        let end = limit.map { start + min($0, selected.count - start) } ?? selected.count
        return Array(selected[start..<end])
    }

    private func matches(_ filter: Filter, _ torrent: QBTorrent) -> Bool {
        let state = torrent.state
        let active = torrent.dlspeed > 0 || torrent.upspeed > 0
        switch filter {
        case .all: return true
        case .downloading: return state.isDownloadSide
        case .seeding: return state.isUploadSide && !state.isStopped
        case .completed: return state.isUploadSide
        case .stopped: return state.isStopped
        case .running: return !state.isStopped
        case .active: return active
        case .inactive: return !active
        case .stalled: return state == .stalledUP || state == .stalledDL
        case .stalledUploading: return state == .stalledUP
        case .stalledDownloading: return state == .stalledDL
        case .checking: return state.isChecking
        case .moving: return state == .moving
        case .errored: return state == .error || state == .missingFiles
        }
    }
}
