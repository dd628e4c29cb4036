import Metainfo

extension SwarmNode {
    /// Announces an open torrent and looks for its peers now, beside its scheduled rounds: what
    /// clients call "reannounce" (after a port change, or when a download is starved). Runs in
    /// the background; returns false when the torrent is not open.
    @discardableResult
    public func reannounce(_ infoHash: InfoHash) async -> Bool {
        guard let session = await openSession(infoHash) else { return false }
        guard !(discovery is NoPeerDiscovery) else { return true }
        Task { await self.announceRound(infoHash) }
        Task { await self.lookupRound(session) }
        return true
    }

    /// One announce of `infoHash` at our port (the scheduled loop's and a reannounce's);
    /// how many nodes took it, which is reported when some did.
    @discardableResult
    func announceRound(_ infoHash: InfoHash) async -> Int {
        let accepted = await discovery.announce(infoHash, port: port)
        if accepted > 0 { report(.announced(infoHash: infoHash, nodes: accepted)) }
        return accepted
    }

    /// One lookup of the torrent's peers, each handed to it as it comes.
    func lookupRound(_ session: TorrentSession) async {
        for await peer in discovery.findPeers(for: session.infoHash) { session.addPeers([peer]) }
    }
}
