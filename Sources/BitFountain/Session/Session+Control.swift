import Foundation
import Metainfo
import Swarm

extension Session {
    /// Removes a torrent: its connections close, its announces and lookups
    /// stop, it leaves the swarm, its resume data and stored record go. With
    /// `deleteData` its downloaded files are deleted too (never anything else
    /// in the save path).
    public func remove(_ id: TorrentID, deleteData: Bool = false) async throws {
        try ensureRunning()
        let torrent = try record(id)
        torrents[id] = nil
        idsByInfoHash[torrent.infoHash] = nil
        await swarm.remove(torrent.infoHash)
        store?.remove(torrent.infoHash)
        let state = swarm.stateDirectory
        try? FileManager.default.removeItem(atPath: state.resumePath(torrent.infoHash))
        try? FileManager.default.removeItem(atPath: state.metadataPath(torrent.infoHash))
        var deleted = false
        if deleteData, let path = torrent.contentPath, FileManager.default.fileExists(atPath: path) {
            do {
                try FileManager.default.removeItem(atPath: path)
                deleted = true
            } catch {
                emit(.warning("cannot delete \(path): \(error)"))
            }
        }
        emit(.removed(id, infoHash: torrent.infoHash, dataDeleted: deleted))
    }

    /// Stops a torrent (connections closed, announces stopped, resume data
    /// saved) until `resume`. Pausing a paused torrent does nothing.
    public func pause(_ id: TorrentID) async throws {
        try ensureRunning()
        var torrent = try record(id)
        guard !torrent.paused else { return }
        torrent.paused = true
        if let session = torrent.session { torrent.stats = await session.stats() }
        torrent.absorbCounters()
        let wasRunning = torrent.session != nil
        torrent.session = nil
        torrents[id] = torrent
        if wasRunning { await swarm.remove(torrent.infoHash) }
        persist(id)
        noteState(id)
    }

    /// Starts a paused (or failed) torrent again: a fast resume from the
    /// saved pieces, then the swarm. A seed that stopped at its ratio limit
    /// seeds on with no limit, as in Transmission: resuming it is asking for that.
    public func resume(_ id: TorrentID) async throws {
        try ensureRunning()
        let torrent = try record(id)
        guard torrent.paused || torrent.error != nil else { return }
        if reachedSeedLimit(id) { torrents[id]?.seedRatio = .unlimited }
        torrents[id]?.paused = false
        torrents[id]?.error = nil
        persist(id)
        await run(id, discoveryDelay: 0)
    }

    /// Hashes every piece on disk again, forgetting the resume data (what
    /// clients call "verify"). A paused torrent is checked and stays paused.
    public func recheck(_ id: TorrentID) async throws {
        try ensureRunning()
        let torrent = try record(id)
        let wasPaused = torrent.paused
        if torrent.session != nil { try await pause(id) }
        try? FileManager.default.removeItem(atPath: swarm.stateDirectory.resumePath(torrent.infoHash))
        torrents[id]?.paused = false
        torrents[id]?.doneDate = nil
        await run(id, discoveryDelay: 0)
        if wasPaused { try await pause(id) }
    }

    /// Moves a torrent's files to `directory` (which becomes its save path)
    /// and carries on from there. A running torrent is stopped for the move.
    public func moveStorage(_ id: TorrentID, to directory: String) async throws {
        try ensureRunning()
        let torrent = try record(id)
        let target = Self.absolute(directory)
        guard target != torrent.savePath else { return }
        let wasRunning = !torrent.paused
        if wasRunning { try await pause(id) }
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            if let source = torrent.contentPath, FileManager.default.fileExists(atPath: source) {
                let destination = (target as NSString).appendingPathComponent((source as NSString).lastPathComponent)
                guard !FileManager.default.fileExists(atPath: destination) else {
                    throw SessionError("\(destination) already exists")
                }
                try FileManager.default.moveItem(atPath: source, toPath: destination)
            }
        } catch {
            if wasRunning { try await resume(id) }
            throw SessionError("cannot move \(torrent.name) to \(target): \(error)")
        }
        torrents[id]?.savePath = target
        persist(id)
        if wasRunning { try await resume(id) }
    }

    /// Points a torrent at data that is already in `directory` (which becomes its save path)
    /// without moving anything, then checks what is there, as a recheck does: pieces missing
    /// at the new place are downloaded again. A paused torrent is checked and stays paused.
    public func relocate(_ id: TorrentID, to directory: String) async throws {
        try ensureRunning()
        let torrent = try record(id)
        let target = Self.absolute(directory)
        guard target != torrent.savePath else { return }
        torrents[id]?.savePath = target
        persist(id)
        // The running engine still has the old place: the recheck stops it and starts anew here.
        try await recheck(id)
    }

    /// Sets one file's priority: recorded, persisted, and applied at once to
    /// a running torrent's piece picker (TorrentMachine+Priorities.swift): a
    /// skipped file's pieces are not fetched unless a wanted file shares them,
    /// high-priority files come first, and the torrent is done (seeding what
    /// it has) when every wanted piece is verified. Un-skipping resumes.
    public func setFilePriority(_ id: TorrentID, fileIndex: Int, _ priority: FilePriority) async throws {
        try ensureRunning()
        let torrent = try record(id)
        guard let info = torrent.info else { throw SessionError("\(torrent.name): the file list is not known yet (no metadata)") }
        guard info.files.indices.contains(fileIndex) else {
            throw SessionError("\(torrent.name) has no file \(fileIndex) (it has \(info.files.count))")
        }
        var priorities = torrent.filePriorities
        if priorities.count != info.files.count { priorities = Array(repeating: .normal, count: info.files.count) }
        priorities[fileIndex] = priority
        torrents[id]?.filePriorities = priorities
        persist(id)
        await torrent.session?.setFilePriorities(priorities.map(\.pieceClass))
    }

    /// Per-torrent limits in bytes per second (nil: only the global ones
    /// apply; where both are set the smaller wins). Applied at once to a
    /// running torrent, recorded and persisted.
    public func setLimits(_ id: TorrentID, upload: Int?, download: Int?) async throws {
        try ensureRunning()
        let torrent = try record(id)
        if let limit = upload, limit <= 0 { throw SessionError("upload limit must be positive or none") }
        if let limit = download, limit <= 0 { throw SessionError("download limit must be positive or none") }
        torrents[id]?.uploadLimit = upload
        torrents[id]?.downloadLimit = download
        persist(id)
        await torrent.session?.setLimits(upload: upload, download: download)
    }

    /// Changes one direction of a torrent's own limit and keeps the other
    /// (qBittorrent sets them one at a time). Read and written on the actor
    /// before any suspension, so a concurrent change of the other direction is
    /// not undone.
    public func setUploadLimit(_ id: TorrentID, _ limit: Int?) async throws {
        try await setLimits(id, upload: limit, download: try record(id).downloadLimit)
    }

    /// See `setUploadLimit`.
    public func setDownloadLimit(_ id: TorrentID, _ limit: Int?) async throws {
        try await setLimits(id, upload: try record(id).uploadLimit, download: limit)
    }

    /// Changes the category and tags of a torrent.
    public func setLabels(_ id: TorrentID, category: String?, tags: [String]) async throws {
        try ensureRunning()
        _ = try record(id)
        torrents[id]?.category = category
        torrents[id]?.tags = tags
        persist(id)
    }

    /// The settings now.
    public func currentSettings() -> SessionSettings { settings }

    /// Changes settings while running. The port is fixed at start; a change
    /// of it is refused. The rate limits take effect at once, the connection
    /// limits and encryption policy for new connections.
    public func updateSettings(_ new: SessionSettings) async throws {
        try ensureRunning()
        guard new.port == settings.port else { throw SessionError("the port is fixed while the session runs (restart it with another)") }
        if let limit = new.uploadLimit, limit <= 0 { throw SessionError("upload limit must be positive or none") }
        if let limit = new.downloadLimit, limit <= 0 { throw SessionError("download limit must be positive or none") }
        guard new.maxConnections > 0, new.maxPeersPerTorrent > 0 else { throw SessionError("connection limits must be positive") }
        if let ratio = new.seedRatioLimit { try Self.checkSeedRatio(ratio) }
        guard new.altUploadLimit >= 0, new.altDownloadLimit >= 0 else { throw SessionError("alternative limits must be 0 (none) or more") }
        settings = new
        await swarm.apply(uploadLimit: new.effectiveUploadLimit, downloadLimit: new.effectiveDownloadLimit, maxConnections: new.maxConnections,
                          maxPeersPerTorrent: new.maxPeersPerTorrent, encryption: new.encryption)
        do { try store?.saveSettings(new) } catch { emit(.warning("cannot save the settings: \(error)")) }
    }
}
