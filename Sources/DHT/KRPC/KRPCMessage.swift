import Identity

/// One KRPC message (BEP 5), decoded once at the edge.
///
/// Fixed-size fields (IDs, transaction IDs, tokens) are stored inline, so
/// decoding a query allocates nothing; only node and peer lists in responses
/// become arrays.
public struct KRPCMessage: Sendable {
    public var transactionID: ShortBytes
    public var body: Body
    /// The sender's client and version (`v`), when given.
    public var version: ShortBytes?
    /// BEP 43: the sender is read-only and must not enter routing tables.
    public var readOnly: Bool
    /// BEP 42: in responses, the address the responder saw us at.
    public var requesterAddress: NodeAddress?
    /// Where the BitFountain signature fields sit in the packet, when present.
    /// Not checked by the decoder: see `KRPCAuthentication`.
    public var authentication: KRPCAuthentication?

    public enum Body: Sendable {
        case query(KRPCQuery)
        case response(KRPCResponse)
        case error(KRPCError)
    }

    public init(transactionID: ShortBytes, body: Body, version: ShortBytes? = nil, readOnly: Bool = false,
                requesterAddress: NodeAddress? = nil, authentication: KRPCAuthentication? = nil) {
        self.transactionID = transactionID
        self.body = body
        self.version = version
        self.readOnly = readOnly
        self.requesterAddress = requesterAddress
        self.authentication = authentication
    }
}

/// BEP 32 `want`: which address families the querier wants nodes of.
public struct WantedFamilies: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let v4 = WantedFamilies(rawValue: 1)
    public static let v6 = WantedFamilies(rawValue: 2)

    public func includes(_ family: IPAddress.Family) -> Bool { contains(family == .v4 ? WantedFamilies.v4 : WantedFamilies.v6) }
    public init(_ family: IPAddress.Family) { self = family == .v4 ? .v4 : .v6 }
}

/// The queries this node understands; anything else is `.unknown`.
public enum KRPCQuery: Sendable, Equatable {
    case ping(id: NodeID)
    case findNode(id: NodeID, target: NodeID, want: WantedFamilies)
    case getPeers(id: NodeID, infoHash: NodeID, want: WantedFamilies)
    /// `port` is nil when the querier set `implied_port` (use the UDP source port).
    case announcePeer(id: NodeID, infoHash: NodeID, port: UInt16?, token: ShortBytes)
    /// BEP 51.
    case sampleInfohashes(id: NodeID, target: NodeID, want: WantedFamilies)
    /// BEP 44: the item stored under `target`; with `sequence`, a mutable
    /// item only when its sequence number is higher.
    case get(id: NodeID, target: NodeID, sequence: Int64?, want: WantedFamilies)
    /// BEP 44: store an item (checked by the storing node, see `PutRequest`).
    case put(id: NodeID, request: PutRequest)
    /// A method we do not implement. When it carries `target` or `info_hash`
    /// it is answered like find_node; otherwise with error 204.
    case unknown(method: ShortBytes, id: NodeID, target: NodeID?, want: WantedFamilies)

    public var senderID: NodeID {
        switch self {
        case .ping(let id), .findNode(let id, _, _), .getPeers(let id, _, _), .announcePeer(let id, _, _, _),
             .sampleInfohashes(let id, _, _), .get(let id, _, _, _), .put(let id, _), .unknown(_, let id, _, _):
            return id
        }
    }

    /// The `q` value we send (unknown methods are never sent; they keep their own name).
    var methodLiteral: StaticString {
        switch self {
        case .ping: return "ping"
        case .findNode: return "find_node"
        case .getPeers: return "get_peers"
        case .announcePeer: return "announce_peer"
        case .sampleInfohashes: return "sample_infohashes"
        case .get: return "get"
        case .put: return "put"
        case .unknown: return "unknown"
        }
    }

    public var methodName: String {
        if case .unknown(let method, _, _, _) = self { return String(decoding: method.bytes, as: UTF8.self) }
        return methodLiteral.description
    }
}

/// A response. KRPC responses do not name the query they answer, so every
/// field any of our queries can get back is here; absent ones are empty.
public struct KRPCResponse: Sendable, Equatable {
    public var id: NodeID
    public var nodes: [NodeContact] = []
    public var nodes6: [NodeContact] = []
    /// get_peers: peers (compact 6- or 18-byte values).
    public var values: [NodeAddress] = []
    public var token: ShortBytes?
    /// BEP 51.
    public var samples: [NodeID] = []
    public var interval: Int64?
    public var num: Int64?
    /// BEP 44 `get`: the item's raw bencoded `v`, and for mutable items `k`,
    /// `seq` and `sig` (a `seq` alone: the node holds no newer item than asked).
    public var value: [UInt8]?
    public var itemKey: [UInt8]?
    public var itemSequence: Int64?
    public var itemSignature: [UInt8]?

    public init(id: NodeID) {
        self.id = id
    }
}

/// KRPC error codes (BEP 5).
public struct KRPCError: Sendable, Equatable, Error {
    public var code: Int64
    public var message: String

    public init(code: Int64, message: String) {
        self.code = code
        self.message = message
    }

    public static let generic: Int64 = 201
    public static let server: Int64 = 202
    public static let protocolError: Int64 = 203
    public static let methodUnknown: Int64 = 204
}

/// The byte ranges, in the received packet, that a signature check needs.
public struct KRPCAuthentication: Sendable, Equatable {
    public var key: Range<Int>
    public var signature: Range<Int>
    /// The raw `a` or `r` dictionary.
    public var body: Range<Int>
    /// The raw `q` method name (empty for responses).
    public var method: Range<Int>
    /// The raw `t`.
    public var transactionID: Range<Int>
    /// `q` or `r`.
    public var type: UInt8
}
