import Metainfo

extension SwarmNode {
    /// Announces an open torrent and looks for its peers now, beside its scheduled rounds: what
    /// clients call "reannounce" (after a port change, or when a download is starved). Runs in
    /// the background; returns false when the torrent is not open.
    @discardableResult
    public func reannounce(_ infoHash: InfoHash) async -> Bool {
        guard let session = await openSession(infoHash) else { return false }
        let discovery = self.discovery
        guard !(discovery is NoPeerDiscovery) else { return true }
        let port = self.port
        Task {
            let accepted = await discovery.announce(infoHash, port: port)
            if accepted > 0 { self.report(.announced(infoHash: infoHash, nodes: accepted)) }
        }
        Task {
            for await peer in discovery.findPeers(for: infoHash) { session.addPeers([peer]) }
        }
        return true
    }
}
