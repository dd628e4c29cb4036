import Identity

/// Tunables of a DHT node. The defaults are what a node on the Internet runs with.
public struct DHTConfiguration: Sendable {
    /// Address families this node has sockets for.
    public var families: Set<IPAddress.Family> = [.v4]
    /// Bucket size and result-set size (BEP 5).
    public var k = 8
    /// Parallel queries per lookup.
    public var alpha = 3
    /// BEP 43: ask others not to put us in their routing tables (one-off tools).
    public var readOnly = false
    /// No answer after this: the query failed.
    public var queryTimeout: DHTDuration = .seconds(4)
    /// No answer after this: the lookup stops waiting and widens (see `Lookup`).
    public var slowQueryTimeout: DHTDuration = .seconds(1)
    /// How often maintenance runs (pings, refreshes, token rotation, bootstrap retries).
    public var maintenanceInterval: DHTDuration = .seconds(5)
    /// Per-IP limit on queries we answer.
    public var rateLimitPerSecond: Double = 20
    public var rateLimitBurst: Double = 60
    /// Loopback senders skip the rate limit (local tools and benchmarks).
    public var rateLimitExemptsLoopback = true
    /// Largest reply to a source that has not proven its address (by answering
    /// one of our queries): a spoofed query cannot buy more than this.
    public var unprovenReplyBudget = 480
    /// Largest datagram we send (BEP 5 practice).
    public var maxPacketSize = 1_024
    /// `v` in every message: "FN" (our client code) and a 2-byte version.
    public var version: [UInt8] = KRPCWriter.defaultVersion
    /// Bootstrap retry backoff when nothing answers.
    public var bootstrapRetryInitial: DHTDuration = .seconds(5)
    public var bootstrapRetryMax: DHTDuration = .minutes(5)
    /// Below this many nodes, the node bootstraps again.
    public var minimumTableSize = 8
    /// BEP 51 `interval`: seconds before a node should sample us again.
    public var sampleInterval: Int64 = 300
    /// Bounds our own outstanding queries.
    public var maxPendingQueries = 2_048
    public var peerStore = PeerStore.Limits()
    public var tableTimings = RoutingTable.Timings()
    /// Votes (from distinct networks) needed before we believe an external IP.
    public var externalAddressVotes = 5

    public init() {}
}
