import BitFountain
import Foundation
import Metainfo

/// The qBittorrent dialect over the library's `Session`: snapshots become `QBTorrent`s, actions
/// go to the session by infohash. Categories and tags that exist without a torrent live in a
/// `QBLabelStore`; save paths are confined to the daemon's download roots.
public struct QBSessionBackend: QBBackend {
    let session: Session
    let labels: QBLabelStore
    let paths: PathConfinement

    public init(session: Session, labels: QBLabelStore, paths: PathConfinement) {
        self.session = session
        self.labels = labels
        self.paths = paths
    }

    public func mainData() async -> QBMainDataSnapshot {
        let snapshots = await session.list()
        var categories = await labels.categories
        var tags = await labels.tags
        for snapshot in snapshots {
            // qBittorrent lists every category and tag in use, defined or not.
            if let category = snapshot.category, !category.isEmpty, categories[category] == nil {
                categories[category] = QBCategory(name: category, savePath: "")
            }
            tags.formUnion(snapshot.tags)
        }
        var server = QBServerState()
        for snapshot in snapshots {
            server.downloadRate += Int64(metric: snapshot.downloadRate)
            server.uploadRate += Int64(metric: snapshot.uploadRate)
            server.downloadedSession += snapshot.downloadedEver
            server.uploadedSession += snapshot.uploadedEver
            server.peerConnections += Int64(snapshot.peersConnected)
        }
        let settings = await session.currentSettings()
        server.downloadLimit = Int64(settings.effectiveDownloadLimit ?? 0)
        server.uploadLimit = Int64(settings.effectiveUploadLimit ?? 0)
        server.altSpeedEnabled = settings.altSpeedEnabled
        server.dhtNodes = Int64(await session.dht?.statistics()?.tableSize ?? 0)
        let free = try? FileManager.default.attributesOfFileSystem(forPath: paths.defaultRoot)[.systemFreeSize] as? NSNumber
        server.freeSpaceOnDisk = free?.int64Value ?? 0
        let globalRatio = settings.seedRatioLimit
        return QBMainDataSnapshot(torrents: snapshots.map { Self.torrent($0, globalRatio: globalRatio) }, categories: Array(categories.values),
                                  tags: tags, serverState: server)
    }

    static func torrent(_ s: TorrentSnapshot, globalRatio: Double?) -> QBTorrent {
        let complete = s.bytesWanted > 0 && s.bytesWantedHave >= s.bytesWanted
        let facts = QBTorrentState.Facts(
            stopped: s.state == .paused, checking: s.state == .checking, hasMetadata: s.hasMetadata,
            complete: complete || s.state == .seeding, errored: s.state == .error,
            transferring: s.state == .seeding ? s.uploadRate > 0 : s.downloadRate > 0)
        var t = QBTorrent(hash: s.infoHash.hex, name: s.name, state: QBTorrentState(facts))
        t.progress = s.progress
        t.size = s.bytesWanted
        t.totalSize = s.totalBytes
        // qBittorrent's `completed` is libtorrent's total_wanted_done: amount_left = size - completed.
        t.completed = s.bytesWantedHave
        t.downloaded = s.downloadedEver
        t.uploaded = s.uploadedEver
        t.downloadedSession = s.downloadedEver
        t.uploadedSession = s.uploadedEver
        t.dlspeed = Int64(metric: s.downloadRate)
        t.upspeed = Int64(metric: s.uploadRate)
        t.eta = s.eta.map { min(QBTorrent.infiniteETA, Int64(metric: $0.rounded(.up))) } ?? QBTorrent.infiniteETA
        t.numSeeds = Int64(s.seedsConnected)
        t.numLeechs = Int64(max(0, s.peersConnected - s.seedsConnected))
        t.numComplete = t.numSeeds
        t.numIncomplete = t.numLeechs
        t.category = s.category ?? ""
        t.tags = s.tags
        t.savePath = s.savePath
        t.contentPath = s.contentPath ?? (s.savePath as NSString).appendingPathComponent(s.name)
        t.addedOn = Int64(s.addedDate.timeIntervalSince1970)
        t.completionOn = s.doneDate.map { Int64($0.timeIntervalSince1970) } ?? -1
        t.lastActivity = s.downloadRate > 0 || s.uploadRate > 0 ? Int64(Date().timeIntervalSince1970) : t.addedOn
        t.timeActive = max(0, Int64(Date().timeIntervalSince(s.addedDate)))
        t.seedingTime = s.doneDate.map { max(0, Int64(Date().timeIntervalSince($0))) } ?? 0
        t.magnetURI = s.magnetLink
        t.fountainPeers = Int64(s.fountain.fountainPeers)
        // qBittorrent shows "no limit of its own" as 0 here (torrents/uploadLimit, torrents/info).
        t.upLimit = Int64(s.uploadLimit ?? 0)
        t.dlLimit = Int64(s.downloadLimit ?? 0)
        switch s.seedRatioLimit {
        case .global: t.ratioLimit = QBShareLimit.global
        case .unlimited: t.ratioLimit = QBShareLimit.unlimited
        case .ratio(let ratio): t.ratioLimit = ratio
        }
        t.maxRatio = s.seedRatioLimit.effective(global: globalRatio) ?? QBShareLimit.unlimited
        return t
    }

    public func peers(of hash: String) async throws(QBRequestError) -> [QBPeer] {
        let id = try await id(hash)
        return ((try? await session.peers(id)) ?? []).map(QBPeer.init)
    }

    public func setShareLimits(_ hashes: Set<String>?, ratio: SeedRatioLimit) async throws(QBRequestError) {
        for id in await ids(hashes) {
            do { try await session.setSeedRatioLimit(id, ratio) } catch { throw .badParameter("ratioLimit", "\(error)") }
        }
    }

    public func preferences() async -> QBPreferences {
        let settings = await session.currentSettings()
        return QBPreferences(savePath: settings.defaultSavePath, listenPort: Int64(settings.port),
                             downloadLimit: Int64(settings.downloadLimit ?? 0), uploadLimit: Int64(settings.uploadLimit ?? 0),
                             maxConnections: Int64(settings.maxConnections),
                             maxConnectionsPerTorrent: Int64(settings.maxPeersPerTorrent), maxRatio: settings.seedRatioLimit,
                             altDownloadLimit: Int64(settings.altDownloadLimit), altUploadLimit: Int64(settings.altUploadLimit))
    }

    public func setAltSpeedEnabled(_ enabled: Bool) async throws(QBRequestError) {
        var settings = await session.currentSettings()
        settings.altSpeedEnabled = enabled
        do { try await session.updateSettings(settings) } catch { throw .conflict("Cannot switch the speed limits: \(error)") }
    }

    public func setPreferences(_ changes: QBPreferenceChanges) async throws(QBRequestError) {
        var settings = await session.currentSettings()
        if let limit = changes.altDownloadLimit { settings.altDownloadLimit = limit }
        if let limit = changes.altUploadLimit { settings.altUploadLimit = limit }
        if let limit = changes.downloadLimit { settings.downloadLimit = limit == 0 ? nil : limit }
        if let limit = changes.uploadLimit { settings.uploadLimit = limit == 0 ? nil : limit }
        if let count = changes.maxConnections { settings.maxConnections = count }
        if let count = changes.maxConnectionsPerTorrent { settings.maxPeersPerTorrent = count }
        if let path = changes.savePath {
            do { settings.defaultSavePath = try paths.confine(path) } catch { throw .badParameter("save_path", error.description) }
        }
        // max_ratio -1 is "no limit" too; a ratio given alone keeps the limit on or off as it was.
        let ratio = changes.maxRatio.flatMap { $0 >= 0 ? $0 : nil }
        let enabled = (changes.maxRatio.map { $0 >= 0 } ?? true) && (changes.maxRatioEnabled ?? (settings.seedRatioLimit != nil))
        settings.seedRatioLimit = enabled ? ratio ?? settings.seedRatioLimit ?? 1 : nil
        do { try await session.updateSettings(settings) } catch { throw .conflict("Cannot apply the preferences: \(error)") }
    }

    public func add(_ request: QBAddRequest) async -> Int {
        var options = AddOptions(paused: request.stopped, category: request.category, tags: request.tags)
        if let savePath = request.savePath {
            guard let confined = try? paths.confine(savePath) else { return 0 }
            options.savePath = confined
        }  // else the session's default save path, which `save_path` in the preferences sets
        var sources: [TorrentSource] = request.torrentFiles.map { .torrentFile($0) }
        for url in request.urls {
            guard let source = try? TorrentSource(parsing: url) else { continue }
            sources.append(source)
        }
        var added = 0
        for source in sources {
            do {
                _ = try await session.add(source, options: options)
                added += 1
            } catch is DuplicateTorrentError {
                added += 1  // qBittorrent answers "Ok." for a torrent it already has
            } catch {
                continue
            }
        }
        if let category = request.category, await labels.categories[category] == nil {
            try? await labels.setCategory(QBCategory(name: category, savePath: ""))
        }
        if !request.tags.isEmpty { try? await labels.addTags(request.tags) }
        return added
    }

    /// The session ids of the named torrents (every torrent for nil); unknown hashes are skipped.
    private func ids(_ hashes: Set<String>?) async -> [TorrentID] {
        let snapshots = await session.list()
        return snapshots.filter { hashes?.contains($0.infoHash.hex) ?? true }.map(\.id)
    }

    private func id(_ hash: String) async throws(QBRequestError) -> TorrentID {
        guard let infoHash = InfoHash(string: hash), let id = await session.id(of: infoHash) else {
            throw .notFound("Torrent hash \(hash)")
        }
        return id
    }

    public func delete(_ hashes: Set<String>?, deleteFiles: Bool) async throws(QBRequestError) {
        for id in await ids(hashes) { try? await session.remove(id, deleteData: deleteFiles) }
    }

    public func setStopped(_ hashes: Set<String>?, _ stopped: Bool) async throws(QBRequestError) {
        for id in await ids(hashes) {
            if stopped { try? await session.pause(id) } else { try? await session.resume(id) }
        }
    }

    public func recheck(_ hashes: Set<String>?) async throws(QBRequestError) {
        for id in await ids(hashes) { try? await session.recheck(id) }
    }

    public func reannounce(_ hashes: Set<String>?) async {
        for id in await ids(hashes) { try? await session.reannounce(id) }
    }

    public func torrentFile(of hash: String) async throws(QBRequestError) -> [UInt8] {
        let id = try await id(hash)
        do { return try await session.torrentFile(id) } catch { throw .conflict("Unable to export torrent file: \(error)") }
    }

    public func peerSources(of hash: String) async throws(QBRequestError) -> QBPeerSources {
        _ = try await id(hash)
        let configuration = session.configuration
        // The DHT as it runs (none with --no-dht, nor on loopback without bootstrap nodes).
        return QBPeerSources(dht: session.dht != nil, pex: configuration.pex, lsd: configuration.localServiceDiscovery)
    }

    public func setLocation(_ hashes: Set<String>?, _ location: String) async throws(QBRequestError) {
        let directory: String
        do {
            directory = try paths.confine(location)
        } catch {
            throw .badParameter("location", error.description)
        }
        for id in await ids(hashes) {
            do {
                try await session.moveStorage(id, to: directory)
            } catch {
                throw .conflict("Cannot move the torrent: \(error)")
            }
        }
    }

    public func setFilePriority(_ hash: String, files: [Int], priority: Int) async throws(QBRequestError) {
        let id = try await id(hash)
        let value: FilePriority = priority == 0 ? .skip : priority == 1 ? .normal : .high
        for index in files {
            do {
                try await session.setFilePriority(id, fileIndex: index, value)
            } catch {
                throw .conflict("Cannot set the priority of file \(index): \(error)")
            }
        }
    }

    public func setGlobalLimits(download: Int?, upload: Int?) async throws(QBRequestError) {
        var settings = await session.currentSettings()
        // As qBittorrent: the limits of the mode in force, the alternative ones while they are on.
        if settings.altSpeedEnabled {
            if let download { settings.altDownloadLimit = download }
            if let upload { settings.altUploadLimit = upload }
        } else {
            if let download { settings.downloadLimit = download == 0 ? nil : download }
            if let upload { settings.uploadLimit = upload == 0 ? nil : upload }
        }
        do {
            try await session.updateSettings(settings)
        } catch {
            throw .conflict("Cannot apply the limits: \(error)")
        }
    }

    public func setTorrentLimit(_ direction: QBRateDirection, _ hashes: Set<String>?,
                                bytesPerSecond: Int?) async throws(QBRequestError) {
        for id in await ids(hashes) {
            do {
                switch direction {
                case .upload: try await session.setUploadLimit(id, bytesPerSecond)
                case .download: try await session.setDownloadLimit(id, bytesPerSecond)
                }
            } catch {
                throw .conflict("Cannot apply the limit: \(error)")
            }
        }
    }

    public func files(of hash: String) async throws(QBRequestError) -> [QBFile] {
        let id = try await id(hash)
        guard let files = try? await session.files(id), let snapshot = try? await session.snapshot(id) else {
            throw .notFound("Torrent hash \(hash)")
        }
        let pieceLength = Self.pieceLength(totalBytes: snapshot.totalBytes, pieceCount: snapshot.pieceCount)
        var offset: Int64 = 0
        return files.map { file in
            defer { offset += file.length }
            let first = Int(offset / pieceLength)
            let last = Int(max(offset, offset + file.length - 1) / pieceLength)
            return QBFile(index: file.index, name: file.path, size: file.length,
                          progress: file.length > 0 ? Double(file.bytesHave) / Double(file.length) : 1,
                          priority: Self.priority(file.priority), pieceRange: first...max(first, last))
        }
    }

    /// The piece length of a torrent from its size and piece count: the snapshot does not carry
    /// it, and piece lengths are powers of two of at least 16 KiB (BEP 52; every v1 tool too).
    static func pieceLength(totalBytes: Int64, pieceCount: Int) -> Int64 {
        guard pieceCount > 0, totalBytes > 0 else { return 16384 }
        var length: Int64 = 16384
        while (totalBytes + length - 1) / length > Int64(pieceCount), length < 1 << 40 { length *= 2 }
        return length
    }

    static func priority(_ priority: FilePriority) -> Int {
        switch priority {
        case .skip: 0
        case .normal: 1
        case .high: 6
        }
    }

    public func pieceInfo(of hash: String) async throws(QBRequestError) -> QBPieceInfo {
        let id = try await id(hash)
        guard let s = try? await session.snapshot(id) else { throw .notFound("Torrent hash \(hash)") }
        return QBPieceInfo(pieceSize: Self.pieceLength(totalBytes: s.totalBytes, pieceCount: s.pieceCount), pieceCount: Int64(s.pieceCount), piecesHave: Int64(s.piecesHave),
                           connections: Int64(s.peersConnected))
    }

    public func pieceStates(of hash: String) async throws(QBRequestError) -> [Int] {
        let id = try await id(hash)
        guard let have = await session.pieces(id) else { return [] }
        return (0..<have.count).map { have[$0] ? 2 : 0 }
    }

    public func createCategory(_ category: QBCategory) async throws(QBRequestError) {
        if !category.savePath.isEmpty {
            do {
                _ = try paths.confine(category.savePath)
            } catch {
                throw .badParameter("savePath", "\(error)")
            }
        }
        do {
            try await labels.setCategory(category)
        } catch {
            throw .conflict("could not save the category: \(error)")
        }
    }

    public func removeCategories(_ names: [String]) async {
        try? await labels.removeCategories(names)
        for snapshot in await session.list() where names.contains(snapshot.category ?? "") {
            try? await session.setLabels(snapshot.id, category: nil, tags: snapshot.tags)
        }
    }

    public func setCategory(_ category: String, for hashes: Set<String>?) async throws(QBRequestError) {
        for snapshot in await session.list() where hashes?.contains(snapshot.infoHash.hex) ?? true {
            try? await session.setLabels(snapshot.id, category: category.isEmpty ? nil : category, tags: snapshot.tags)
        }
    }

    public func createTags(_ tags: [String]) async {
        try? await labels.addTags(tags)
    }

    public func deleteTags(_ tags: [String]) async {
        try? await labels.removeTags(tags)
        for snapshot in await session.list() where !Set(snapshot.tags).isDisjoint(with: tags) {
            try? await session.setLabels(snapshot.id, category: snapshot.category, tags: snapshot.tags.filter { !tags.contains($0) })
        }
    }

    public func addTags(_ tags: [String], to hashes: Set<String>?) async throws(QBRequestError) {
        try? await labels.addTags(tags)
        for snapshot in await session.list() where hashes?.contains(snapshot.infoHash.hex) ?? true {
            let merged = snapshot.tags + tags.filter { !snapshot.tags.contains($0) }
            try? await session.setLabels(snapshot.id, category: snapshot.category, tags: merged)
        }
    }

    public func removeTags(_ tags: [String], from hashes: Set<String>?) async throws(QBRequestError) {
        for snapshot in await session.list() where hashes?.contains(snapshot.infoHash.hex) ?? true {
            try? await session.setLabels(snapshot.id, category: snapshot.category, tags: snapshot.tags.filter { !tags.contains($0) })
        }
    }
}
