import Foundation

extension Session {
    /// Announces a running torrent on the DHT (and to the other discoveries) and looks for its
    /// peers now, beside its scheduled rounds. A paused torrent has nothing to announce: it
    /// is left alone, as other clients do.
    public func reannounce(_ id: TorrentID) async throws {
        try ensureRunning()
        let torrent = try record(id)
        guard torrent.session != nil else { return }
        await swarm.reannounce(torrent.infoHash)
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
}
