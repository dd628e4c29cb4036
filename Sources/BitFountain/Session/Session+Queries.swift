import Foundation
import Metainfo
import PeerWire
import Swarm

extension Session {
    /// Every torrent, by id. One pass over the running ones on the event loop.
    public func list() async -> [TorrentSnapshot] {
        await refreshStats()
        var snapshots: [TorrentSnapshot] = []
        snapshots.reserveCapacity(torrents.count)
        // In id order as they lie; appended straight from where each is made (bound to a
        // name first, it was copied).
        for index in torrents.values.indices {
            snapshots.append(Self.snapshot(of: &torrents.values[index]))
        }
        return snapshots
    }

    /// One torrent now.
    public func snapshot(_ id: TorrentID) async throws -> TorrentSnapshot {
        let torrent = try record(id)
        if let session = torrent.session, let stats = await session.stats() { torrents[id]?.stats = stats }
        noteState(id)
        guard let snapshot = makeSnapshot(id) else { throw SessionError("no torrent with id \(id)") }
        return snapshot
    }

    /// The files of a torrent (empty until a magnet link's metadata arrives).
    public func files(_ id: TorrentID) async throws -> [FileSnapshot] {
        let torrent = try record(id)
        guard let info = torrent.info else { return [] }
        let have = await pieces(id)
        let layout = info.layout
        return info.files.enumerated().compactMap { index, file -> FileSnapshot? in
            guard !file.isPadding else { return nil }
            let bytes = have.map { PiecePriorities.verifiedBytes(ofFile: index, layout: layout, have: $0) } ?? 0
            let priority = torrent.filePriorities.indices.contains(index) ? torrent.filePriorities[index] : .normal
            return FileSnapshot(index: index, path: file.path.joined(separator: "/"), length: file.length,
                                bytesHave: bytes, priority: priority)
        }
    }

    /// The torrent as a .torrent file: its info dictionary byte for byte (so the infohash is
    /// the same), with no tracker, as everything BitFountain publishes. Fails before a magnet
    /// link's metadata has arrived.
    public func torrentFile(_ id: TorrentID) throws -> [UInt8] {
        let torrent = try record(id)
        guard let info = torrent.info else { throw SessionError("\(torrent.name): the metadata has not arrived yet") }
        // "d" "4:info" <info> "e": one key, so no ordering to get wrong.
        return Array("d4:info".utf8) + info.rawBytes + Array("e".utf8)
    }

    /// The connected peers of a torrent (none while paused).
    public func peers(_ id: TorrentID) async throws -> [PeerSnapshot] {
        guard let session = try record(id).session else { return [] }
        return await session.peerSnapshots()
    }

    /// Which pieces are verified on disk, for a piece map; nil before the
    /// metadata. A paused torrent answers from its resume data.
    public func pieces(_ id: TorrentID) async -> Bitfield? {
        guard let torrent = torrents[id] else { return nil }
        if let session = torrent.session { return await session.have() }
        guard let info = torrent.info else { return nil }
        if let resume = swarm.stateDirectory.loadResume(torrent.infoHash), resume.have.count == info.pieceCount { return resume.have }
        return Bitfield(count: info.pieceCount)
    }

    /// Reads the engine numbers of the running torrents in one hop (those at rest since the
    /// last read keep the numbers they have here) and announces the state changes that
    /// brings (a download became a seed).
    func refreshStats() async {
        let all = await swarm.changedStats()
        for (infoHash, stats) in all {
            // In place, through `values[index]`: `torrents[id]?` moves the record out into an
            // optional and back, and copying records was a good part of a 10,000-torrent list.
            guard let id = idsByInfoHash[infoHash], let index = torrents.index(forKey: id),
                  let change = torrents.values[index].take(stats) else { continue }
            emit(.stateChanged(id, from: change.from, to: change.to))
        }
    }

    func makeSnapshot(_ id: TorrentID) -> TorrentSnapshot? {
        guard let index = torrents.index(forKey: id) else { return nil }
        return Self.snapshot(of: &torrents.values[index])
    }

    /// A record's snapshot, read where the record lies: `inout` only so that it is not copied
    /// out of the dictionary (thirty-odd references retained and released per torrent, for
    /// every torrent of every `list`). The stored fields are read through `kept` itself, not
    /// the record's key-path members.
    private static func snapshot(of torrent: inout ManagedTorrent) -> TorrentSnapshot {
        // Read before the numbers are taken out below.
        let (name, state) = (torrent.name, torrent.state)
        // The engine numbers are moved out and back, not copied: a copy retains their
        // references (the name among them), each a cache miss across ten thousand records.
        let stats = torrent.session == nil ? nil : torrent.stats.take()
        defer { if stats != nil { torrent.stats = stats } }
        let total = torrent.info?.totalLength ?? stats?.totalBytes ?? 0
        let have = stats?.verifiedBytes ?? torrent.kept.lastHaveBytes
        // (`info` is only handed over, and so copied, when some file is skipped.)
        var wanted = total
        if torrent.kept.filePriorities.contains(.skip) { wanted = wantedBytes(torrent.info, torrent.kept.filePriorities) ?? total }
        // Verified bytes of the wanted files only: pieces shared with skipped files
        // put some bytes into those, which do not count towards "done". A
        // stopped torrent keeps only its verified total, a close upper bound.
        let haveWanted = min(stats?.wantedVerifiedBytes ?? have, wanted)
        let progress = wanted > 0 ? Double(haveWanted) / Double(wanted) : (torrent.info == nil ? 0 : 1)
        let downRate = stats?.downloadRate ?? 0
        let downloaded = torrent.kept.downloadedBefore + (stats?.downloadedPayload ?? 0)
        let uploaded = torrent.kept.uploadedBefore + (stats?.uploadedPayload ?? 0)
        let eta: Double? = downRate > 0 && haveWanted < wanted ? Double(wanted - haveWanted) / downRate : nil
        let peers = stats?.peers ?? []
        return TorrentSnapshot(
            id: torrent.id, infoHash: torrent.infoHash, name: name, state: state,
            hasMetadata: torrent.info != nil || stats?.hasMetadata == true, totalBytes: total,
            bytesHave: have, bytesWanted: wanted, bytesWantedHave: haveWanted, progress: progress,
            // The engine may report the metadata (and completion) before `info` is copied in; its
            // count is also the one at hand (`info`'s is behind a pointer: a cache miss per torrent).
            pieceCount: stats.flatMap { $0.hasMetadata ? $0.pieceCount : nil } ?? torrent.info?.pieceCount ?? 0,
            piecesHave: stats?.piecesVerified ?? 0,
            downloadRate: downRate, uploadRate: stats?.uploadRate ?? 0,
            peersConnected: stats?.connectedPeers ?? 0, seedsConnected: peers.filter(\.isSeed).count,
            eta: eta, downloadedEver: downloaded, uploadedEver: uploaded,
            ratio: Double(uploaded) / Double(max(downloaded, have, 1)), hashFailures: stats?.hashFailures ?? 0,
            peersContributed: stats?.peersContributed ?? 0, wastedBytes: stats?.wastedBytes ?? 0,
            firstPayloadSeconds: stats?.firstPayloadSeconds,
            addedDate: torrent.kept.addedDate, doneDate: torrent.kept.doneDate, savePath: torrent.kept.savePath, topItem: torrent.topItem,
            category: torrent.kept.category, tags: torrent.kept.tags, error: torrent.error, fountainEnabled: torrent.kept.fountain,
            fountain: FountainStats(symbolsReceived: stats?.repairSymbolsReceived ?? 0, piecesDecoded: stats?.piecesDecoded ?? 0,
                                    symbolsServed: stats?.symbolsUploaded ?? 0, pollutedSymbols: stats?.pollutedSymbols ?? 0,
                                    fountainPeers: peers.filter(\.fountain).count),
            magnet: torrent.magnetLink, isPublished: torrent.kept.published,
            uploadLimit: torrent.kept.uploadLimit, downloadLimit: torrent.kept.downloadLimit,
            seedRatioLimit: torrent.kept.seedRatio ?? .global)
    }

    /// Bytes of the files not skipped (nil: all of them).
    private static func wantedBytes(_ info: TorrentInfo?, _ filePriorities: [FilePriority]) -> Int64? {
        guard let info, filePriorities.contains(.skip) else { return nil }
        return zip(info.files, filePriorities).reduce(Int64(0)) { $0 + ($1.1 == .skip || $1.0.isPadding ? 0 : $1.0.length) }
    }
}
