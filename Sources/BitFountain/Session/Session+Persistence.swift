import Foundation
import Metainfo
import Swarm

extension Session {
    /// Writes a torrent's record (and, the first time, its info dictionary)
    /// when the session is persistent. A failure is a warning: the torrent runs on.
    func persist(_ id: TorrentID, metadata: TorrentInfo? = nil) {
        guard let store, let torrent = torrents[id] else { return }
        do {
            if let metadata { try store.saveMetadata(metadata) }
            try store.save(torrent)
        } catch {
            emit(.warning("cannot save the record of \(torrent.name) in \(store.root): \(error)"))
        }
    }

    /// Brings back every stored torrent: the records first (so `list` shows
    /// them all at once), then the running ones are started, `restoreWidth`
    /// at a time, their first announces spread over `announceSpread` seconds.
    func restore(from store: SessionStore) async {
        // The loaded records go into `torrents` and are dropped here, before the starts: kept (or
        // filtered into another list of records) they were a second copy of every record.
        let running = takeRecords(from: store)
        let spread = running.count > 1 ? configuration.announceSpread : 0
        // A start is mostly waiting (the resume check on the I/O pool, the
        // session on the event loop); one after another, ten thousand of them
        // took seconds with both cores half idle.
        await withTaskGroup(of: Void.self) { group in
            for (index, id) in running.enumerated() {
                guard !isShutDown else { break }
                if index >= Self.restoreWidth { _ = await group.next() }
                let delay = spread * Double(index) / Double(running.count)
                group.addTask { await self.run(id, discoveryDelay: delay) }
            }
        }
    }

    /// Puts the stored records in `torrents` and returns the ids of those to start.
    private func takeRecords(from store: SessionStore) -> [TorrentID] {
        let (stored, problems) = store.loadAll()
        for problem in problems { emit(.warning(problem)) }
        var restored: [RestoredTorrent] = []
        var running: [TorrentID] = []
        // In id order (`loadAll` sorts them), appended to a list that holds them all at once:
        // `torrents` stays in id order with no regrowth on the way.
        torrents.reserveCapacity(torrents.count + stored.count)
        for var torrent in stored where idsByInfoHash[torrent.infoHash] == nil {
            torrent.lastState = torrent.paused ? .paused : .checking
            if !torrent.paused { running.append(torrent.id) }
            torrents[torrent.id] = torrent
            idsByInfoHash[torrent.infoHash] = torrent.id
            nextID = max(nextID, torrent.id.rawValue + 1)
            restored.append(RestoredTorrent(id: torrent.id, infoHash: torrent.infoHash, name: torrent.name))
        }
        if !restored.isEmpty { emit(.restored(restored)) }
        return running
    }

    /// How many stored torrents start at once.
    static let restoreWidth = 16
}
