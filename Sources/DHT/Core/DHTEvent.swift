import Identity

/// Names one request or traversal started through the core's API; events about
/// it carry the same value.
public struct DHTOperation: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "op\(rawValue)" }
}

/// What the core reports to whoever drives it.
public enum DHTEvent: Sendable {
    /// A ping we were asked to send was answered.
    case pong(DHTOperation, PingReply)
    /// A single request (ping, sample) got no answer (`error` nil) or an error reply.
    case requestFailed(DHTOperation, NodeAddress, KRPCError?)
    /// get_peers found new peers (each reported once per traversal).
    case peers(DHTOperation, [NodeAddress])
    /// sample_infohashes answered (single request or traversal step).
    case samples(DHTOperation, SampleReply)
    /// BEP 44 get found a valid item (a newer one than reported before, for mutable items).
    case item(DHTOperation, ItemReply)
    /// A traversal ended.
    case finished(DHTOperation, TraversalSummary)
    /// Our node ID for a family changed (the external IP changed, BEP 42).
    case nodeIDChanged(IPAddress.Family, NodeID)
}

public struct PingReply: Sendable, Equatable {
    public var id: NodeID
    public var address: NodeAddress
    public var roundTrip: DHTDuration
    public var tier: TrustTier
    public var version: ShortBytes?
}

public struct ItemReply: Sendable, Equatable {
    public var item: DHTItem
    /// Who had it; our own ID and 127.0.0.1 port 0 when it came from our own store.
    public var from: NodeContact
}

public struct SampleReply: Sendable, Equatable {
    public var from: NodeContact
    public var tier: TrustTier
    public var samples: [NodeID]
    public var num: Int64?
    public var interval: Int64?
}

/// How a traversal went: the result set and what it cost.
public struct TraversalSummary: Sendable {
    public enum Kind: String, Sendable { case bootstrap, findNode = "find_node", getPeers = "get_peers",
                                         sampleInfohashes = "sample_infohashes", refresh,
                                         get, put }

    public struct Node: Sendable, Equatable {
        public var contact: NodeContact
        public var tier: TrustTier
    }

    public var kind: Kind
    public var target: NodeID
    public var family: IPAddress.Family
    /// The K closest nodes that answered, verified ones preferred.
    public var closest: [Node] = []
    public var queriesSent: Int
    public var responses: Int
    public var peersFound = 0
    /// get_peers with announce: how many nodes acknowledged our announce_peer.
    public var announcedTo = 0
    public var samples = 0
    /// BEP 44 get: valid copies of the item received.
    public var itemsFound = 0
    /// BEP 44 put: how many nodes acknowledged our put.
    public var storedTo = 0
    public var duration: DHTDuration

    init(kind: Kind, target: NodeID, family: IPAddress.Family, counters: TraversalCounters, now: DHTInstant) {
        self.kind = kind
        self.target = target
        self.family = family
        self.queriesSent = counters.queriesSent
        self.responses = counters.responses
        self.duration = now.since(counters.startedAt)
    }
}

/// Counters since the node started.
public struct DHTStatistics: Sendable, Equatable, Codable {
    public var queriesReceived = 0
    public var responsesSent = 0
    public var errorsSent = 0
    public var queriesSent = 0
    public var responsesReceived = 0
    public var errorsReceived = 0
    public var timeouts = 0
    public var droppedMalformed = 0
    public var droppedRateLimited = 0
    public var droppedInvalidSignature = 0
    public var droppedUnsolicited = 0
    public var droppedOversized = 0
    public var peersAnnouncedToUs = 0
    /// BEP 44 puts stored (or refreshed), and puts refused with an error.
    public var itemsPutToUs = 0
    public var putsRefused = 0

    public init() {}
}
