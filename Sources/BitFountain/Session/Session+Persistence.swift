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
    /// them all at once), then the running ones are started one after another,
    /// their first announces spread over `announceSpread` seconds.
    func restore(from store: SessionStore) async {
        let (stored, problems) = store.loadAll()
        for problem in problems { emit(.warning(problem)) }
        for var torrent in stored where idsByInfoHash[torrent.infoHash] == nil {
            torrent.lastState = torrent.paused ? .paused : .checking
            torrents[torrent.id] = torrent
            idsByInfoHash[torrent.infoHash] = torrent.id
            nextID = max(nextID, torrent.id.rawValue + 1)
            emit(.added(torrent.id, infoHash: torrent.infoHash, name: torrent.name))
        }
        let running = stored.filter { !$0.paused }
        let spread = running.count > 1 ? configuration.announceSpread : 0
        for (index, torrent) in running.enumerated() {
            guard !isShutDown else { return }
            let delay = spread * Double(index) / Double(running.count)
            await run(torrent.id, discoveryDelay: delay)
        }
    }
}
