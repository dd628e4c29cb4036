import DHT
import Identity
import Metainfo
import NIOCore

/// How to run a DHT node inside a process (`bitfountain node`, and embedded in
/// `seed` / `get`).
public struct DHTNodeConfiguration: Sendable {
    /// Address to bind; nil binds both 0.0.0.0 and :: (IPv6 only if available).
    public var bindAddress: String?
    /// UDP port; 0 picks a free one.
    public var port: Int = 6881
    /// Where to bootstrap from (host names allowed). Defaults to Bootstrap/nodes.txt's list.
    public var bootstrap: [HostPort] = DefaultBootstrap.nodes
    /// Key and routing table; nil runs with a throw-away identity and saves nothing.
    public var stateDirectory: String?
    /// An event loop group to run on; nil makes (and later shuts down) a one-thread group.
    public var eventLoopGroup: (any EventLoopGroup)?
    /// How often the routing table is saved while running.
    public var saveInterval: Duration = .seconds(300)
    /// Protocol tunables; `families` is filled in from the sockets actually bound.
    public var dht = DHTConfiguration()

    public init() {}
}

/// A snapshot of a running node's numbers.
public struct DHTNodeStatistics: Sendable {
    public struct Family: Sendable {
        public var family: IPAddress.Family
        public var nodeID: NodeID
        public var table: RoutingTable.Summary
        public var externalAddress: IPAddress?
    }

    public var families: [Family]
    public var counters: DHTStatistics
    public var storedInfoHashes: Int
    public var storedPeers: Int

    public var tableSize: Int { families.reduce(0) { $0 + $1.table.nodes } }
    public var verifiedNodes: Int { families.reduce(0) { $0 + $1.table.verified } }
}
