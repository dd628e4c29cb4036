import Identity
import Metainfo

/// Where the swarm engine gets peers from and tells the world it serves a torrent.
///
/// The DHT node implements it; tests and `--peer` use simpler ones. Keeping the
/// swarm behind this protocol lets it be built and tested without a DHT.
public protocol PeerDiscovery: Sendable {
    /// Streams peers (IP and TCP port) for `infoHash` as a lookup finds
    /// them; the stream finishes when the lookup has ended.
    func findPeers(for infoHash: InfoHash) -> AsyncStream<PeerAddress>

    /// Announces that this node serves `infoHash` on TCP `port`; returns how
    /// many nodes accepted the announcement (0: try again soon).
    @discardableResult
    func announce(_ infoHash: InfoHash, port: UInt16) async -> Int

    /// A peer told us its DHT port (BEP 5 `port` message); the DHT may ping it.
    func learnedDHTNode(_ node: PeerAddress) async

    /// The home router reported our external address (port mapping): the
    /// DHT derives its BEP 42 node ID from it.
    func externalAddressReported(_ address: IPAddress) async

    /// The UDP port peers can reach our DHT node on (sent as BEP 5 `port`), if any.
    var dhtPort: UInt16? { get }

    /// Stops the discovery, saving whatever it keeps (the DHT's routing table).
    func shutdown() async
}

extension PeerDiscovery {
    public func learnedDHTNode(_ node: PeerAddress) async {}
    public func externalAddressReported(_ address: IPAddress) async {}
    public var dhtPort: UInt16? { nil }
    public func shutdown() async {}
}
