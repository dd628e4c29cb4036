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
}
