import Identity
import Foundation
import Metainfo
import Swarm

/// Thrown by `Session.add` when the session already has the torrent.
public struct DuplicateTorrentError: Error, CustomStringConvertible, Sendable {
    public let id: TorrentID
    public let infoHash: InfoHash
    public var description: String { "torrent \(infoHash.hex) is already in the session (id \(id))" }
}

extension Session {
    /// Adds a torrent and, unless `options.paused`, starts it: checks what is
    /// on disk, joins the swarm, announces it on the DHT. Returns once it is
    /// recorded (and, in a persistent session, written down); the check and
    /// the download go on in the background (follow `events` or `snapshot`).
    /// Throws `DuplicateTorrentError` if the torrent is already there, a
    /// `SessionError` for a source that cannot be read.
    public func add(_ source: TorrentSource, options: AddOptions = AddOptions()) async throws -> TorrentID {
        try ensureRunning()
        if configuration.dhtOnly { throw SessionError("a DHT-only session holds no torrents") }
        let resolved = try await resolve(source, options: options)
        // The magnet-link edge: x.pe may name hosts; they become addresses here, once.
        let linkPeers = await DHTBootstrapResolver.resolve(resolved.magnet?.peers ?? [])
        // `resolve` may have waited (a download, hashing): look again.
        try ensureRunning()
        if let existing = idsByInfoHash[resolved.infoHash] { throw DuplicateTorrentError(id: existing, infoHash: resolved.infoHash) }
        let id = TorrentID(nextID)
        nextID += 1
        let savePath = resolved.savePath ?? Self.absolute(options.savePath ?? settings.defaultSavePath)
        var torrent = ManagedTorrent(id: id, infoHash: resolved.infoHash, info: resolved.info, magnet: resolved.magnet,
                                     savePath: savePath, rootName: resolved.rootName, published: resolved.published,
                                     category: options.category, tags: options.tags,
                                     fountain: options.fountain ?? settings.fountain,
                                     peers: linkPeers + options.peers,
                                     paused: options.paused, addedDate: Date())
        torrent.lastState = options.paused ? .paused : .checking
        torrents[id] = torrent
        idsByInfoHash[resolved.infoHash] = id
        persist(id, metadata: resolved.info)
        emit(.added(id, infoHash: resolved.infoHash, name: torrent.name))
        if !options.paused { await run(id, discoveryDelay: 0) }
        return id
    }

    /// Starts the engine for a recorded torrent: the check of the files
    /// (fast resume or a full recheck), then the swarm. Failures leave it in
    /// `.error` with the reason, and an `.error` event.
    func run(_ id: TorrentID, discoveryDelay: Double) async {
        guard var torrent = torrents[id], torrent.session == nil, !torrent.checking else { return }
        torrent.checking = true
        torrent.error = nil
        torrent.paused = false
        torrents[id] = torrent
        noteState(id)
        let content: TorrentSpec.Content = torrent.info.map { .info($0) } ?? .magnet(torrent.magnetLink)
        let spec = TorrentSpec(content: content, directory: torrent.savePath, rootName: torrent.rootName,
                               seedingExistingContent: torrent.published, peers: torrent.peers,
                               fountain: torrent.fountain, discoveryDelay: discoveryDelay,
                               filePriorities: torrent.filePriorities.isEmpty ? nil : torrent.filePriorities.map(\.pieceClass),
                               uploadLimit: torrent.uploadLimit, downloadLimit: torrent.downloadLimit)
        do {
            let session = try await swarm.add(spec)
            // Removed or paused while the files were checked: close it again.
            guard let current = torrents[id], current.checking, !current.paused else {
                await swarm.remove(torrent.infoHash)
                torrents[id]?.checking = false
                noteState(id)
                return
            }
            torrents[id]?.checking = false
            torrents[id]?.session = session
            // Never `torrents[id]?.x = await …`: an optional-chained assignment
            // opens its access to the dictionary before the await and holds
            // it across the suspension, while other calls change the dictionary.
            let stats = await session.stats()
            torrents[id]?.stats = stats
            // A torrent that was done before (a restart, a resume) and starts
            // done is not news: no `completed` event, no record written again
            // (ten thousand of each at every start of a seeding daemon).
            let doneBefore = torrents[id]?.doneDate != nil && stats?.isComplete == true
            watchCompletion(of: session, reportingCurrent: !doneBefore)
        } catch {
            torrents[id]?.checking = false
            torrents[id]?.error = "\(error)"
            emit(.error(id, "\(error)"))
        }
        noteState(id)
        if torrents[id]?.state == .seeding, torrents[id]?.doneDate == nil {
            torrents[id]?.doneDate = Date()
            persist(id)
        }
    }

    private func watchCompletion(of session: TorrentSession, reportingCurrent: Bool) {
        let sink = engineSink
        let token = ObjectIdentifier(session)
        let infoHash = session.infoHash
        // Every completion, not only the first: un-skipping a file of a finished torrent downloads more.
        session.onEachOutcome(reportingCurrent: reportingCurrent) { result in
            switch result {
            case .success: sink.yield(.finished(infoHash, token, error: nil))
            case .failure(let error): sink.yield(.finished(infoHash, token, error: "\(error)"))
            }
        }
    }

    /// What the engine said, turned into session events (in order, on the actor).
    func handle(_ event: EngineEvent) async {
        switch event {
        case .node(let nodeEvent):
            await handle(nodeEvent)
        case .portMapping(let mapping):
            emit(.portMapping(mapping))
        case .finished(let infoHash, let token, let error):
            guard let id = idsByInfoHash[infoHash], let torrent = torrents[id],
                  let session = torrent.session, ObjectIdentifier(session) == token else { return }
            if let error {
                torrents[id]?.error = error
                torrents[id]?.absorbCounters()
                torrents[id]?.session = nil
                emit(.error(id, error))
                let swarm = self.swarm
                Task { await swarm.remove(infoHash) }
            } else {
                // The completion and the metadata event come by different paths: on a busy
                // machine a fast magnet download can finish before its metadata event is
                // handled, and a completed torrent must already show its files and content path.
                if torrents[id]?.info == nil { await learnInfo(of: id, from: session) }
                let stats = await session.stats()
                torrents[id]?.stats = stats
                if torrents[id]?.doneDate == nil { torrents[id]?.doneDate = Date() }
                emit(.completed(id))
                persist(id)
            }
            noteState(id)
        }
    }

    /// Takes the info dictionary a magnet download has learned; priorities set for another
    /// file list are dropped (every file normal).
    private func learnInfo(of id: TorrentID, from session: TorrentSession) async {
        guard let info = await session.info() else { return }
        torrents[id]?.info = info
        if let count = torrents[id]?.filePriorities.count, count != 0, count != info.files.count {
            torrents[id]?.filePriorities = []
        }
    }

    private func handle(_ event: NodeEvent) async {
        switch event {
        case .metadata(let infoHash, let name, let size, let seconds):
            guard let id = idsByInfoHash[infoHash] else { return }
            let session = torrents[id]?.session
            if let session { await learnInfo(of: id, from: session) }
            let stats = await session?.stats()
            torrents[id]?.stats = stats
            persist(id)
            emit(.metadataReceived(id, name: name, totalBytes: size, seconds: seconds))
            noteState(id)
        case .peerBanned(let infoHash, let address, let reason):
            guard let id = idsByInfoHash[infoHash] else { return }
            emit(.peerBanned(id, address: address, reason: reason))
        case .announced(let infoHash, let nodes):
            guard let id = idsByInfoHash[infoHash] else { return }
            emit(.announced(id, nodes: nodes))
        case .warning(let text):
            emit(.warning(text))
        }
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
