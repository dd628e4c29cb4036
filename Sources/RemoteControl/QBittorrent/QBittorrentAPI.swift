import Foundation

/// A response of the qBittorrent dialect, before it becomes HTTP: plain text ("Ok.", versions)
/// or JSON, or an error with qBittorrent's status code.
public enum QBResponse: Sendable, Equatable {
    case text(String)
    case json(JSONValue)
    /// A .torrent file (`torrents/export`).
    case torrentFile([UInt8])
    case failure(QBRequestError)
}

/// The qBittorrent WebAPI v2 methods other than `auth/*`, dispatched by their path under
/// `/api/v2/` (e.g. "torrents/info"). Authentication, cookies and HTTP are the caller's; this
/// maps decoded parameters to backend calls and qBittorrent-shaped results.
public actor QBittorrentAPI {
    /// The qBittorrent release whose WebAPI (2.11.x: stop/start, "stopped*" states) this follows.
    public static let appVersion = "v5.0.0"
    public static let webAPIVersion = "2.11.2"

    private let backend: any QBBackend
    private var history = QBSyncHistory()
    private var peersRid: Int64 = 0
    private let unixNow: @Sendable () -> Int64

    public init(backend: any QBBackend, unixNow: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.backend = backend
        self.unixNow = unixNow
    }

    /// Every method this dialect answers (for routing and the fuzz target).
    public static let methods: Set<String> = [
        "app/version", "app/webapiVersion", "app/buildInfo", "app/preferences", "app/setPreferences", "app/defaultSavePath",
        "torrents/info", "torrents/count", "torrents/properties", "torrents/files", "torrents/pieceStates",
        "torrents/add", "torrents/delete", "torrents/stop", "torrents/start", "torrents/pause", "torrents/resume",
        "torrents/recheck", "torrents/reannounce", "torrents/setForceStart", "torrents/setLocation", "torrents/filePrio",
        "torrents/trackers", "torrents/export", "torrents/setShareLimits",
        "torrents/topPrio", "torrents/bottomPrio", "torrents/increasePrio", "torrents/decreasePrio",
        "torrents/uploadLimit", "torrents/downloadLimit", "torrents/setUploadLimit", "torrents/setDownloadLimit",
        "transfer/setDownloadLimit", "transfer/setUploadLimit", "transfer/downloadLimit", "transfer/uploadLimit",
        "transfer/speedLimitsMode", "transfer/toggleSpeedLimitsMode", "transfer/setSpeedLimitsMode",
        "torrents/categories", "torrents/createCategory", "torrents/editCategory", "torrents/removeCategories",
        "torrents/setCategory", "torrents/tags", "torrents/createTags", "torrents/deleteTags",
        "torrents/addTags", "torrents/removeTags", "transfer/info", "sync/maindata", "sync/torrentPeers",
    ]

    public func handle(_ method: String, _ parameters: QBParameters) async -> QBResponse {
        do {
            return try await dispatch(method, parameters)
        } catch {
            return .failure(error)
        }
    }

    private func dispatch(_ method: String, _ p: QBParameters) async throws(QBRequestError) -> QBResponse {
        switch method {
        case "app/version": return .text(Self.appVersion)
        case "app/webapiVersion": return .text(Self.webAPIVersion)
        case "app/buildInfo":
            return .json(.object(["qt": .string(""), "libtorrent": .string(""), "boost": .string(""), "openssl": .string(""), "bitness": .int(64),
                                  "bitfountain": .bool(true)]))
        case "app/preferences": return .json(.object(await backend.preferences().fields))
        case "app/defaultSavePath": return .text(await backend.preferences().savePath)
        case "app/setPreferences": try await backend.setPreferences(try QBPreferenceChanges(p))

        case "torrents/info":
            let query = try QBTorrentListQuery(p)
            let torrents = query.apply(to: Array(await backend.mainData().torrents.values))
            return .json(.array(torrents.map { .object($0.fields) }))
        case "torrents/count": return .text(String(await backend.mainData().torrents.count))
        case "torrents/properties":
            let torrent = try await torrent(p)
            return .json(.object(torrent.properties(try await backend.pieceInfo(of: torrent.hash), now: unixNow())))
        case "torrents/files":
            return .json(.array(try await backend.files(of: try hash(p)).map { .object($0.fields) }))
        case "torrents/pieceStates":
            return .json(.array(try await backend.pieceStates(of: try hash(p)).map { .int(Int64($0)) }))

        case "torrents/add":
            var request = try QBAddRequest(p)
            if let name = request.category, request.savePath == nil,
                let category = await backend.mainData().categories[name], !category.savePath.isEmpty
            {
                request.savePath = category.savePath
            }
            return await backend.add(request) > 0 ? .text("Ok.") : .failure(.unsupported("Fails."))
        case "torrents/delete":
            try await backend.delete(try hashes(p), deleteFiles: p.bool("deleteFiles") ?? false)
        case "torrents/stop", "torrents/pause": try await backend.setStopped(try hashes(p), true)
        case "torrents/start", "torrents/resume": try await backend.setStopped(try hashes(p), false)

        case "torrents/recheck": try await backend.recheck(try hashes(p))
        case "torrents/reannounce": await backend.reannounce(try hashes(p))
        case "torrents/setForceStart":
            // Forced or not, a torrent here runs when started: there is no queue to jump.
            guard let value = p.bool("value") else { throw .missingParameter("value") }
            if value { try await backend.setStopped(try hashes(p), false) } else { _ = try hashes(p) }
        case "torrents/topPrio", "torrents/bottomPrio", "torrents/increasePrio", "torrents/decreasePrio":
            // qBittorrent's answer while queueing is off, which it always is here (app/preferences
            // says so); Sonarr and Radarr expect it and carry on.
            _ = try hashes(p)
            throw .conflict("Torrent queueing must be enabled")
        case "torrents/trackers":
            return .json(.array(try await backend.peerSources(of: try hash(p)).trackerRows))
        case "torrents/export": return .torrentFile(try await backend.torrentFile(of: try hash(p)))
        case "torrents/setShareLimits":
            let hashes = try hashes(p)
            let ratio = try QBShareLimit.ratio(p)
            try QBShareLimit.refuseTimeLimits(p)
            try await backend.setShareLimits(hashes, ratio: ratio)
        case "torrents/setLocation":
            let location = try p.required("location")
            guard !location.isEmpty else { throw .badParameter("location", "empty") }
            try await backend.setLocation(try hashes(p), location)
        case "torrents/filePrio":
            let files = try p.required("id").split(separator: "|").map { text throws(QBRequestError) -> Int in
                guard let index = Int(text), index >= 0 else { throw .badParameter("id", String(text)) }
                return index
            }
            guard let priority = try p.int("priority"), [0, 1, 6, 7].contains(priority) else {
                throw .badParameter("priority", p["priority"] ?? "")
            }
            try await backend.setFilePriority(try hash(p), files: files, priority: priority)
        case "torrents/uploadLimit", "torrents/downloadLimit":
            // hash → the torrent's own limit in bytes/s, 0 for none; unknown hashes are left out.
            let wanted = try hashes(p)
            let upload = method == "torrents/uploadLimit"
            let torrents = await backend.mainData().torrents.values.filter { wanted?.contains($0.hash) ?? true }
            return .json(.object(Dictionary(uniqueKeysWithValues: torrents.map { ($0.hash, .int(upload ? $0.upLimit : $0.dlLimit)) })))
        case "torrents/setUploadLimit", "torrents/setDownloadLimit":
            guard let limit = try p.int("limit") else { throw .missingParameter("limit") }
            // As qBittorrent: 0 and any negative value (clients send -1) mean no limit of its own.
            try await backend.setTorrentLimit(method == "torrents/setUploadLimit" ? .upload : .download, try hashes(p),
                                              bytesPerSecond: limit > 0 ? limit : nil)
        case "transfer/setDownloadLimit", "transfer/setUploadLimit":
            guard let limit = try p.int("limit"), limit >= 0 else { throw .badParameter("limit", p["limit"] ?? "") }
            let download = method == "transfer/setDownloadLimit"
            try await backend.setGlobalLimits(download: download ? limit : nil, upload: download ? nil : limit)
        case "transfer/speedLimitsMode": return .text(await backend.mainData().serverState.altSpeedEnabled ? "1" : "0")
        case "transfer/toggleSpeedLimitsMode":
            try await backend.setAltSpeedEnabled(!(await backend.mainData().serverState.altSpeedEnabled))
        case "transfer/setSpeedLimitsMode":
            // WebAPI 2.8.14+: mode 1 the alternative limits, 0 the normal ones.
            guard let mode = try p.int("mode"), mode == 0 || mode == 1 else { throw .badParameter("mode", p["mode"] ?? "") }
            try await backend.setAltSpeedEnabled(mode == 1)
        case "transfer/downloadLimit": return .text(String(await backend.mainData().serverState.downloadLimit))
        case "transfer/uploadLimit": return .text(String(await backend.mainData().serverState.uploadLimit))

        case "torrents/categories":
            return .json(.object(await backend.mainData().categories.mapValues(\.json)))
        case "torrents/createCategory", "torrents/editCategory":
            let name = try p.required("category")
            guard Self.isValidCategory(name) else { throw .badParameter("category", name) }
            let exists = await backend.mainData().categories[name] != nil
            if method == "torrents/createCategory" && exists { throw .conflict("Category already exists") }
            if method == "torrents/editCategory" && !exists { throw .conflict("Category does not exist") }
            try await backend.createCategory(QBCategory(name: name, savePath: p["savePath"] ?? ""))
        case "torrents/removeCategories":
            await backend.removeCategories((p["categories"] ?? "").split(whereSeparator: \.isNewline).map(String.init))
        case "torrents/setCategory":
            let name = try p.required("category")
            if !name.isEmpty, await backend.mainData().categories[name] == nil {
                throw .conflict("Category does not exist")
            }
            try await backend.setCategory(name, for: try hashes(p))

        case "torrents/tags": return .json(.array(await backend.mainData().tags.sorted().map(JSONValue.string)))
        case "torrents/createTags": await backend.createTags(p.list("tags"))
        case "torrents/deleteTags": await backend.deleteTags(p.list("tags"))
        case "torrents/addTags": try await backend.addTags(p.list("tags"), to: try hashes(p))
        case "torrents/removeTags": try await backend.removeTags(p.list("tags"), from: try hashes(p))

        case "transfer/info": return .json(.object(await backend.mainData().serverState.transferInfo))
        case "sync/torrentPeers":
            // Always the whole list (`full_update`), which every client takes; rid still counts up.
            let peers = try await backend.peers(of: try hash(p))
            peersRid += 1
            return .json(.object(["full_update": .bool(true), "rid": .int(peersRid), "show_flags": .bool(true),
                                  "peers": .object(Dictionary(peers.map { ($0.address, JSONValue.object($0.fields)) },
                                                              uniquingKeysWith: { first, _ in first }))]))
        case "sync/maindata":
            let rid = try p.int("rid") ?? 0
            return .json(history.respond(to: rid, with: await backend.mainData()))
        default:
            throw .notFound("Unknown method \(method)")
        }
        return .text("")
    }

    /// A category name as qBittorrent allows it: non-empty, no leading/trailing slash or `//`.
    static func isValidCategory(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("/") && !name.hasSuffix("/") && !name.contains("//")
            && !name.contains(where: \.isNewline) && name.utf8.count <= 255
    }

    private func hash(_ p: QBParameters) throws(QBRequestError) -> String {
        try p.required("hash").lowercased()
    }

    private func hashes(_ p: QBParameters) throws(QBRequestError) -> Set<String>? {
        _ = try p.required("hashes")
        return p.hashes("hashes")
    }

    private func torrent(_ p: QBParameters) async throws(QBRequestError) -> QBTorrent {
        let hash = try hash(p)
        guard let torrent = await backend.mainData().torrents[hash] else { throw .notFound("Torrent hash \(hash)") }
        return torrent
    }
}
