import BitFountain
import Foundation
import Metainfo
import PeerWire

/// Carries out decoded Transmission RPC commands on a `Session`. An actor, so
/// one client's `torrent-set` and another's `torrent-get` do not interleave; it
/// also remembers the kB/s values of limits that are switched off, which the
/// session itself does not keep.
public actor TransmissionRPCHandler {
    let session: Session
    let paths: PathConfinement
    let configDirectory: String
    private var sessionLimits: TransmissionTorrentLimits
    private var torrentLimits: [TorrentID: TransmissionTorrentLimits] = [:]
    /// The ratio of each torrent's own seed limit while it is not in force, and the session's.
    private var torrentRatios: [TorrentID: Double] = [:]
    private var sessionRatio = TransmissionSeedRatio.defaultRatio
    private let started = Date()
    public nonisolated let sessionID: String

    public init(session: Session, paths: PathConfinement, configDirectory: String, settings: SessionSettings) {
        self.session = session
        self.paths = paths
        self.configDirectory = configDirectory
        self.sessionID = randomToken()
        var limits = TransmissionTorrentLimits()
        if let down = settings.downloadLimit { limits.downloadKilobytes = Int64(down / 1000); limits.downloadLimited = true }
        if let up = settings.uploadLimit { limits.uploadKilobytes = Int64(up / 1000); limits.uploadLimited = true }
        sessionLimits = limits
    }

    /// Decodes, executes and encodes one request body. Malformed requests get
    /// HTTP 400; everything else 200 with `result` saying what happened.
    public func respond(to body: [UInt8]) async -> (malformed: Bool, body: [UInt8]) {
        let request: TransmissionRequest
        do {
            request = try TransmissionRequest(body: body)
        } catch {
            return (error.isMalformedRequest, TransmissionResponse.failure(error, tag: nil).encoded())
        }
        do {
            let command = try TransmissionCommand(request)
            return (false, TransmissionResponse.success(try await execute(command), tag: request.tag).encoded())
        } catch {
            return (false, TransmissionResponse.failure(error, tag: request.tag).encoded())
        }
    }

    func execute(_ command: TransmissionCommand) async throws(TransmissionRPCError) -> TransmissionResponse.Arguments {
        switch command {
        case .torrentAdd(let add): return .values(try await self.add(add))
        case .torrentGet(let fields, let ids): return await get(fields: fields, ids: ids)
        case .torrentStart(let ids): try await each(ids) { try await self.session.resume($0) }
        case .torrentStop(let ids): try await each(ids) { try await self.session.pause($0) }
        case .torrentVerify(let ids): try await each(ids) { try await self.session.recheck($0) }
        case .torrentReannounce(let ids): try await each(ids) { try await self.session.reannounce($0) }
        case .torrentRemove(let ids, let delete):
            for id in try await select(ids) {
                try await call { try await self.session.remove(id, deleteData: delete) }
                torrentLimits[id] = nil
                torrentRatios[id] = nil
            }
        case .torrentSet(let ids, let set): try await self.set(set, on: ids)
        case .torrentSetLocation(let ids, let location, let move):
            try await self.setLocation(ids, location: location, move: move)
        case .sessionGet(let fields): return .values(await sessionGet(fields: fields))
        case .sessionSet(let set): try await sessionSet(set)
        case .sessionStats:
            return .values(TransmissionSessionFields.sessionStats(await session.list(),
                                                                  secondsActive: Int64(Date().timeIntervalSince(started))))
        case .freeSpace(let path): return .values(try freeSpace(path))
        }
        return .values([:])
    }

    // MARK: torrent-add

    private func add(_ add: TransmissionCommand.TorrentAdd) async throws(TransmissionRPCError) -> [String: JSONValue] {
        let source: TorrentSource
        switch add.source {
        case .metainfo(let bytes): source = .torrentFile(bytes)
        case .filename(let text): source = try readSource(text)
        }
        var options = AddOptions(paused: add.paused)
        if let dir = add.downloadDir { options.savePath = try confine(dir) }
        do {
            let id = try await session.add(source, options: options)
            let snapshot = try await session.snapshot(id)
            try await applyFilePriorities(id, unwanted: add.filesUnwanted, high: add.priorityHigh)
            return ["torrent-added": brief(snapshot)]
        } catch let duplicate as DuplicateTorrentError {
            guard let snapshot = try? await session.snapshot(duplicate.id) else { throw .failed("\(duplicate)") }
            return ["torrent-duplicate": brief(snapshot)]
        } catch let error as TransmissionRPCError {
            throw error
        } catch {
            throw .failed("\(error)")
        }
    }

    /// A magnet link, infohash or URL; a local .torrent file only inside the download roots.
    private func readSource(_ text: String) throws(TransmissionRPCError) -> TorrentSource {
        if text.hasPrefix("/") || text.lowercased().hasSuffix(".torrent") && !text.contains("://") {
            let path = try confine(text)
            guard let data = FileManager.default.contents(atPath: path), data.count <= Torrent.maxFileSize else {
                throw .failed("cannot read \(text)")
            }
            return .torrentFile(Array(data))
        }
        do { return try TorrentSource(parsing: text) } catch { throw .invalidArgument("filename", "\(error)") }
    }

    private func brief(_ snapshot: TorrentSnapshot) -> JSONValue {
        .object(["id": .int(Int64(snapshot.id.rawValue)), "name": .string(snapshot.name), "hashString": .string(snapshot.infoHash.hex)])
    }

    // MARK: torrent-get

    /// Written straight to JSON, torrent by torrent: this is what a client
    /// polls every second or two, for every torrent it shows.
    private func get(fields: [String], ids: TransmissionSelector) async -> TransmissionResponse.Arguments {
        var chosen = await session.list()
        switch ids {
        case .all: break
        case .recentlyActive:
            chosen.removeAll { !($0.downloadRate > 0 || $0.uploadRate > 0 || $0.state == .checking) }
        case .some: chosen.removeAll { !ids.matches(id: $0.id.rawValue, hashString: $0.infoHash.hex) }
        }
        let plan = TransmissionTorrentFields.Plan(fields)
        let needFiles = plan.needsFiles
        let needPeers = plan.needsPeers
        let needPieces = plan.needsPieces
        let peerLimit = await session.currentSettings().maxPeersPerTorrent
        // Files and peers first, so that the loop below has no suspension point: across one,
        // each snapshot would be copied out of the list (its references retained) to stay alive.
        var files: [[FileSnapshot]] = []
        var peers: [[PeerSnapshot]] = []
        var pieces: [Bitfield?] = []
        if needFiles || needPeers || needPieces {
            for id in chosen.map(\.id) {
                if needFiles { files.append((try? await session.files(id)) ?? []) }
                if needPeers { peers.append((try? await session.peers(id)) ?? []) }
                if needPieces { pieces.append(await session.pieces(id)) }
            }
        }
        var writer = JSONWriter(capacity: 64 + chosen.count * (2 + 24 * plan.fields.count))
        writer.beginObject()
        writer.key("torrents")
        writer.beginArray()
        for index in chosen.indices {
            let input = TransmissionTorrentFields.Input(
                files: needFiles ? files[index] : nil, peers: needPeers ? peers[index] : nil,
                pieces: needPieces ? pieces[index] : nil, limits: limits(of: chosen[index]),
                seedRatio: TransmissionSeedRatio(chosen[index].seedRatioLimit, remembered: torrentRatios[chosen[index].id]),
                peerLimit: peerLimit)
            // In place (see `write`): the list is ours alone, so this copies nothing.
            TransmissionTorrentFields.write(&chosen[index], input, plan: plan, into: &writer)
        }
        writer.endArray()
        if ids == .recentlyActive {
            writer.key("removed")
            writer.write(.array([]))
        }
        writer.endObject()
        return .json(writer.bytes)
    }

    // MARK: torrent-set, torrent-set-location

    /// A torrent's limits as Transmission shows them: what the session enforces (whichever
    /// dialect set it, or the state directory after a restart), with the remembered kB/s of
    /// a limit that is off.
    private func limits(of snapshot: TorrentSnapshot) -> TransmissionTorrentLimits {
        (torrentLimits[snapshot.id] ?? TransmissionTorrentLimits())
            .matching(upload: snapshot.uploadLimit, download: snapshot.downloadLimit)
    }

    private func set(_ set: TransmissionCommand.TorrentSet, on ids: TransmissionSelector) async throws(TransmissionRPCError) {
        let targets = try await select(ids)
        if let location = set.location { _ = try confine(location) }
        for id in targets {
            let current = (try? await session.snapshot(id)).map(limits(of:)) ?? TransmissionTorrentLimits()
            var limits = current
            if let value = set.downloadLimit { limits.downloadKilobytes = value }
            if let value = set.downloadLimited { limits.downloadLimited = value }
            if let value = set.uploadLimit { limits.uploadKilobytes = value }
            if let value = set.uploadLimited { limits.uploadLimited = value }
            torrentLimits[id] = limits
            // Only a direction the request changed: the other keeps its exact bytes/s (a qBittorrent
            // client's 262144 is not rounded to Transmission's 262 kB).
            if (limits.uploadLimited, limits.uploadKilobytes) != (current.uploadLimited, current.uploadKilobytes) {
                try await call { try await self.session.setUploadLimit(id, limits.uploadBytesPerSecond) }
            }
            if (limits.downloadLimited, limits.downloadKilobytes) != (current.downloadLimited, current.downloadKilobytes) {
                try await call { try await self.session.setDownloadLimit(id, limits.downloadBytesPerSecond) }
            }
            try await applyFilePriorities(id, unwanted: set.filesUnwanted, high: set.priorityHigh,
                                          normal: set.filesWanted + set.priorityNormal + set.priorityLow)
            try await setSeedRatio(id, ratio: set.seedRatioLimit, mode: set.seedRatioMode)
        }
        if let location = set.location {
            try await setLocation(ids, location: location, move: true)
        }
    }

    /// transmission-remote `-sr R` sends the ratio and mode 1, `-SR` mode 2, `-gsr` mode 0.
    private func setSeedRatio(_ id: TorrentID, ratio: Double?, mode: Int64?) async throws(TransmissionRPCError) {
        guard ratio != nil || mode != nil, let snapshot = try? await session.snapshot(id) else { return }
        var shown = TransmissionSeedRatio(snapshot.seedRatioLimit, remembered: torrentRatios[id])
        if let ratio { shown.ratio = ratio }
        if let mode { shown.mode = mode }
        torrentRatios[id] = shown.ratio
        try await call { try await self.session.setSeedRatioLimit(id, shown.limit) }
    }

    private func applyFilePriorities(_ id: TorrentID, unwanted: [Int], high: [Int], normal: [Int] = []) async throws(TransmissionRPCError) {
        guard !(unwanted.isEmpty && high.isEmpty && normal.isEmpty) else { return }
        let count = (try? await session.files(id).count) ?? 0
        for index in unwanted + high + normal where index >= count {
            throw .invalidArgument("files", "torrent \(id) has \(count) files; there is no file \(index)")
        }
        for index in normal { try await call { try await self.session.setFilePriority(id, fileIndex: index, .normal) } }
        for index in high { try await call { try await self.session.setFilePriority(id, fileIndex: index, .high) } }
        for index in unwanted { try await call { try await self.session.setFilePriority(id, fileIndex: index, .skip) } }
    }

    private func setLocation(_ ids: TransmissionSelector, location: String, move: Bool) async throws(TransmissionRPCError) {
        let directory = try confine(location)
        // move: false is "the data is already there": look for it there, as a verify does.
        try await each(ids) { id in
            if move { try await self.session.moveStorage(id, to: directory) } else { try await self.session.relocate(id, to: directory) }
        }
    }

    // MARK: session-get, session-set, free-space

    private func sessionGet(fields: [String]?) async -> [String: JSONValue] {
        let settings = await session.currentSettings()
        let all = TransmissionSessionFields.sessionGet(
            settings: settings, limits: sessionLimits.matching(upload: settings.uploadLimit, download: settings.downloadLimit),
            sessionRatio: sessionRatio,
            configDirectory: configDirectory,
            sessionID: sessionID, configuration: session.configuration)
        guard let fields, !fields.isEmpty else { return all }
        return all.filter { fields.contains($0.key) }
    }

    private func sessionSet(_ set: TransmissionCommand.SessionSet) async throws(TransmissionRPCError) {
        var settings = await session.currentSettings()
        if let dir = set.downloadDir { settings.defaultSavePath = try confine(dir) }
        // From what is in force (the other dialect may have changed it), with the remembered
        // kB/s of a limit that is off: a request that changes something else keeps them.
        var limits = sessionLimits.matching(upload: settings.uploadLimit, download: settings.downloadLimit)
        if let value = set.speedLimitDown { limits.downloadKilobytes = value }
        if let value = set.speedLimitDownEnabled { limits.downloadLimited = value }
        if let value = set.speedLimitUp { limits.uploadKilobytes = value }
        if let value = set.speedLimitUpEnabled { limits.uploadLimited = value }
        settings.downloadLimit = limits.downloadBytesPerSecond
        settings.uploadLimit = limits.uploadBytesPerSecond
        // A new ratio keeps the limit on or off as it was; seedRatioLimited turns it on or off.
        let ratio = set.seedRatioLimit ?? settings.seedRatioLimit ?? sessionRatio
        let limited = set.seedRatioLimited ?? (settings.seedRatioLimit != nil)
        settings.seedRatioLimit = limited ? ratio : nil
        if let enabled = set.altSpeedEnabled { settings.altSpeedEnabled = enabled }
        if let kilobytes = set.altSpeedDown { settings.altDownloadLimit = Int(kilobytes * 1000) }
        if let kilobytes = set.altSpeedUp { settings.altUploadLimit = Int(kilobytes * 1000) }
        try await call { try await self.session.updateSettings(settings) }
        sessionLimits = limits
        sessionRatio = ratio
    }

    private func freeSpace(_ path: String) throws(TransmissionRPCError) -> [String: JSONValue] {
        let directory = try confine(path)
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory),
              let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value else {
            throw .failed("cannot read the free space of \(path)")
        }
        let total = (attributes[.systemSize] as? NSNumber)?.int64Value ?? 0
        return ["path": .string(path), "size-bytes": .int(free), "total_size": .int(total)]
    }

    // MARK: helpers

    private func confine(_ path: String) throws(TransmissionRPCError) -> String {
        do { return try paths.confine(path) } catch { throw .failed(error.description) }
    }

    /// The ids a selector names; a named torrent that does not exist is an error, so nothing changes.
    private func select(_ ids: TransmissionSelector) async throws(TransmissionRPCError) -> [TorrentID] {
        let all = await session.list()
        switch ids {
        case .all: return all.map(\.id)
        case .recentlyActive: return all.filter { $0.downloadRate > 0 || $0.uploadRate > 0 }.map(\.id)
        case .some(let refs):
            var out: [TorrentID] = []
            for ref in refs {
                guard let match = all.first(where: { ref.matches(id: $0.id.rawValue, hashString: $0.infoHash.hex) }) else {
                    throw .invalidArgument("ids", "no torrent \(ref)")
                }
                out.append(match.id)
            }
            return out
        }
    }

    private func each(_ ids: TransmissionSelector, _ action: (TorrentID) async throws -> Void) async throws(TransmissionRPCError) {
        for id in try await select(ids) { try await call { try await action(id) } }
    }

    private func call(_ action: () async throws -> Void) async throws(TransmissionRPCError) {
        do { try await action() } catch let error as TransmissionRPCError { throw error } catch { throw .failed("\(error)") }
    }
}
