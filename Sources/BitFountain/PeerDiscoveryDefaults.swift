import Identity
import Metainfo

/// A discovery that knows no one: peers come only from `--peer`, magnet `x.pe`
/// and incoming connections (`--no-dht`, and tests of the swarm alone).
public struct NoPeerDiscovery: PeerDiscovery {
    public init() {}
    public func findPeers(for infoHash: InfoHash) -> AsyncStream<PeerAddress> { AsyncStream { $0.finish() } }
    public func announce(_ infoHash: InfoHash, port: UInt16) async -> Int { 0 }
}

/// How `seed` and `get` find peers, decided in one place.
public enum PeerDiscoveryChoice: Sendable, Equatable {
    /// An embedded DHT node joining through `bootstrap` (empty: the default list).
    case dht(bootstrap: [HostPort])
    /// No DHT: `--no-dht`, or a loopback-only node with nobody to bootstrap from.
    case none(reason: String)

    /// `--no-dht` wins; a node bound to loopback cannot reach the public
    /// bootstrap nodes, so without `--bootstrap` it runs without a DHT.
    public static func choose(bootstrap: [HostPort], bindHost: String, disabled: Bool) -> PeerDiscoveryChoice {
        if disabled { return .none(reason: "--no-dht") }
        let loopback = bindHost == "127.0.0.1" || bindHost == "::1" || bindHost == "localhost"
        if loopback, bootstrap.isEmpty {
            return .none(reason: "bound to loopback and no --bootstrap node given, so there is no DHT to join")
        }
        return .dht(bootstrap: bootstrap)
    }
}

/// Starts what `choice` says. `bindHost` is the `--bind` address and
/// `stateDirectory` where the DHT keeps its key and routing table; `port` the UDP
/// port to try first (the node's `--port`, so TCP, uTP and the DHT share it).
public func makePeerDiscovery(_ choice: PeerDiscoveryChoice, bindHost: String, stateDirectory: String,
                              port: UInt16? = nil, fixedPort: Bool = false,
                              warning: @escaping @Sendable (String) -> Void = { _ in }) async throws -> any PeerDiscovery {
    switch choice {
    case .none:
        return NoPeerDiscovery()
    case .dht(let bootstrap):
        return try await DHTNode.startEmbedded(bootstrap: bootstrap, bindHost: bindHost,
                                               stateDirectory: stateDirectory, port: port, fixedPort: fixedPort, warning: warning)
    }
}
