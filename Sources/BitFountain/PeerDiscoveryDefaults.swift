import Metainfo

/// A discovery that knows no one: peers come only from `--peer`, magnet `x.pe`
/// and incoming connections. What `seed` and `get` use until the DHT is wired
/// in (then `makePeerDiscovery` returns the DHT-backed one).
public struct NoPeerDiscovery: PeerDiscovery {
    public init() {}
    public func findPeers(for infoHash: InfoHash) -> AsyncStream<HostPort> { AsyncStream { $0.finish() } }
    public func announce(_ infoHash: InfoHash, port: UInt16) async {}
}

/// The one place that decides how `seed` and `get` find peers. `bootstrap` is
/// the `--bootstrap` list (empty: the default nodes), `bindHost` the `--bind`
/// address and `stateDirectory` where a DHT keeps its state.
public func makePeerDiscovery(bootstrap: [HostPort], bindHost: String, stateDirectory: String) async throws -> any PeerDiscovery {
    NoPeerDiscovery()
}
