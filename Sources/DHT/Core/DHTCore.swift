import Metainfo
import Identity

/// A datagram the core wants sent.
public struct OutgoingDatagram: Sendable {
    public var bytes: [UInt8]
    public var destination: NodeAddress
}

/// The sans-I/O DHT node: BEP 5 with BEP 32/42/43/51 and BitFountain's signed
/// node IDs. It owns no socket, clock or random source: packets come in
/// through `receive`, time through `now` arguments and `tick`, randomness from
/// the seed it is created with; datagrams to send and events pile up until
/// the driver takes them (`takeOutgoing`, `takeEvents`) and asks when to wake
/// it next (`nextWakeup`). The NIO runtime and the network simulator are its
/// two drivers.
///
/// Decisions beyond DESIGN §3, and why:
/// - **What gets signed.** Every query we send carries `k`/`sig`. A reply is
///   signed only when the query was signed (the querier is a BitFountain
///   node that will check it); stock nodes cannot use a signature, and
///   leaving it out saves ~110 bytes and one ed25519 signature (~15 µs) per
///   reply — signing every reply would cap a node at ~55k replies/s against
///   ~170k unsigned. Error replies are never signed.
/// - **What gets verified.** Responses to our queries, always (a bad
///   signature or an ID not made from the key drops the message and the node).
///   Queries are not verified (~40 µs each, and their source may be spoofed):
///   a querier that would fit in the table is pinged, and its verified answer
///   is what lets it in.
/// - **No amplification.** A reply to a source that has not proven its
///   address (by answering one of our queries) is cut to
///   `unprovenReplyBudget` (480 bytes: a signed find_node reply with 8 nodes
///   is ~410); proven sources get up to 1,024. Queries are rate-limited per IP
///   (20/s, burst 60, fixed-size table); loopback is exempt for local tools.
/// - **Tokens** are HMAC-SHA1(secret, IP) truncated to 8 bytes; the secret
///   rotates every 5 minutes and the previous one stays valid.
/// - **Verified preference.** A verified node displaces a plain member of a
///   full bucket; a lookup's result set and announce targets take verified
///   nodes first among the 2K closest that answered. Termination itself is by
///   distance only (the K closest non-failed candidates have answered), since
///   tiers are only known once a node has answered.
/// - **Families.** One core serves IPv4 and IPv6 with one routing table each
///   (BEP 32); the IDs can differ because BEP 42 binds each to its family's
///   external address.
public struct DHTCore: Sendable {
    public let configuration: DHTConfiguration
    let authenticator: any NodeAuthenticator
    let keyHash: NodeID
    var tables: [IPAddress.Family: RoutingTable] = [:]
    var voters: [IPAddress.Family: ExternalAddressVoter] = [:]
    var random: SeededRandom
    var tokens: TokenIssuer
    var peerStore: PeerStore
    var itemStore: ItemStore
    var rateLimiter: RateLimiter
    var writer: KRPCWriter
    var verifier = KRPCVerifier()
    var pending: [UInt32: PendingQuery] = [:]
    var timers = DeadlineQueue<TimerEntry>()
    var traversals: [DHTOperation: any Traversal] = [:]
    var bootstrap: [IPAddress.Family: BootstrapState] = [:]
    var refreshing: [IPAddress.Family: DHTOperation] = [:]
    var recentlyPinged: [NodeAddress: DHTInstant] = [:]
    /// Pings to new queriers allowed until the next maintenance round.
    var querierPingBudget = 32
    var nextMaintenance: DHTInstant
    var nextPeerExpiry: DHTInstant
    var nextOperation: UInt64 = 1
    var nextSerial: UInt64 = 1
    var outgoing: [OutgoingDatagram] = []
    var events: [DHTEvent] = []
    public internal(set) var statistics = DHTStatistics()

    /// - Parameters:
    ///   - authenticator: our key; signs everything we send.
    ///   - randomSeed: seeds transaction IDs, token secrets and sampling.
    public init(configuration: DHTConfiguration = DHTConfiguration(), authenticator: any NodeAuthenticator,
                randomSeed: UInt64, now: DHTInstant) {
        self.configuration = configuration
        self.authenticator = authenticator
        self.keyHash = SignedNodeID.keyHash(authenticator.publicKey)
        var random = SeededRandom(seed: randomSeed)
        self.tokens = TokenIssuer(secret: random.bytes(20), previousSecret: random.bytes(20), now: now)
        self.rateLimiter = RateLimiter(perSecond: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst,
                                       key: random.next())
        self.random = random
        self.peerStore = PeerStore(limits: configuration.peerStore)
        self.itemStore = ItemStore(limits: configuration.itemStore)
        self.writer = KRPCWriter(version: configuration.version)
        self.nextMaintenance = now
        self.nextPeerExpiry = now + .minutes(1)
        for family in configuration.families {
            let id = SignedNodeID.derive(keyHash: keyHash, externalIP: nil)
            tables[family] = RoutingTable(ownID: id, k: configuration.k, timings: configuration.tableTimings, now: now)
            voters[family] = ExternalAddressVoter(minimumVotes: configuration.externalAddressVotes)
            bootstrap[family] = BootstrapState(nextAttempt: now, backoff: configuration.bootstrapRetryInitial)
        }
    }

    // MARK: Identity and state

    public var publicKey: Ed25519.PublicKey { authenticator.publicKey }

    /// Our node ID toward nodes of `family` (BEP 42 ties it to that family's external IP).
    public func nodeID(for family: IPAddress.Family) -> NodeID {
        tables[family]?.ownID ?? SignedNodeID.derive(keyHash: keyHash, externalIP: nil)
    }

    /// The external address other nodes agree we have, once known.
    public func externalAddress(for family: IPAddress.Family) -> IPAddress? { voters[family]?.current }

    public func routingTable(for family: IPAddress.Family) -> RoutingTable? { tables[family] }

    public var storedInfoHashes: Int { peerStore.infoHashCount }
    public var storedPeers: Int { peerStore.peerCount }

    /// Addresses to bootstrap from when the table is (nearly) empty. Setting
    /// them restarts a bootstrap that was waiting out its backoff.
    public mutating func setBootstrapNodes(_ addresses: [NodeAddress], now: DHTInstant) {
        for family in configuration.families {
            guard var state = bootstrap[family] else { continue }
            state.seeds = addresses.filter { $0.family == family }
            if state.running == nil, (tables[family]?.count ?? 0) < configuration.minimumTableSize {
                // Not before the saved nodes had their chance to answer (see `restore`).
                state.nextAttempt = max(now, state.savedNodesDeadline)
                state.backoff = configuration.bootstrapRetryInitial
            }
            bootstrap[family] = state
            bootstrapIfNeeded(family, now: now)
        }
    }

    // MARK: Driving

    /// Handles one received datagram.
    public mutating func receive(_ packet: UnsafeRawBufferPointer, from source: NodeAddress, now: DHTInstant) {
        guard packet.count <= KRPCDecoder.maxPacketSize else {
            statistics.droppedOversized += 1
            return
        }
        guard source.port != 0, !source.ip.isUnroutable, tables[source.family] != nil else {
            statistics.droppedMalformed += 1
            return
        }
        let message: KRPCMessage
        do {
            message = try KRPCDecoder.decode(packet)
        } catch {
            statistics.droppedMalformed += 1
            if error.isQuery, let t = error.transactionID, allowQuery(from: source, now: now) {
                sendError(KRPCError(code: KRPCError.protocolError, message: error.reason.description), transactionID: t, to: source)
            }
            return
        }
        switch message.body {
        case .query(let query):
            statistics.queriesReceived += 1
            guard allowQuery(from: source, now: now) else {
                statistics.droppedRateLimited += 1
                return
            }
            answer(query, message: message, from: source, now: now)
        case .response(let response):
            handleResponse(response, message: message, packet: packet, from: source, now: now)
        case .error(let error):
            handleErrorReply(error, message: message, from: source, now: now)
        }
    }

    public mutating func receive(_ packet: [UInt8], from source: NodeAddress, now: DHTInstant) {
        packet.withUnsafeBytes { receive($0, from: source, now: now) }
    }

    /// Runs whatever is due: query timeouts, lookup widening, maintenance.
    public mutating func tick(now: DHTInstant) {
        while let entry = timers.popDue(now: now) { fire(entry, now: now) }
        if now >= nextMaintenance {
            nextMaintenance = now + configuration.maintenanceInterval
            maintain(now: now)
        }
    }

    /// When `tick` next has something to do.
    public var nextWakeup: DHTInstant {
        min(timers.earliest ?? nextMaintenance, nextMaintenance)
    }

    public mutating func takeOutgoing() -> [OutgoingDatagram] {
        defer { outgoing.removeAll(keepingCapacity: true) }
        return outgoing
    }

    public mutating func takeEvents() -> [DHTEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    public var hasOutput: Bool { !outgoing.isEmpty || !events.isEmpty }

    // MARK: Operations

    /// Pings one node; answers with `.pong` or `.requestFailed`.
    @discardableResult
    public mutating func ping(_ address: NodeAddress, now: DHTInstant) -> DHTOperation {
        let operation = makeOperation()
        if !sendQuery(.ping(id: nodeID(for: address.family)), to: address, owner: .ping(operation), now: now) {
            events.append(.requestFailed(operation, address, nil))
        }
        return operation
    }

    /// Asks one node for a sample of its infohashes (BEP 51).
    @discardableResult
    public mutating func sampleInfohashes(at address: NodeAddress, target: NodeID? = nil, now: DHTInstant) -> DHTOperation {
        let operation = makeOperation()
        let query = KRPCQuery.sampleInfohashes(id: nodeID(for: address.family), target: target ?? NodeID.random(using: &random),
                                               want: [])
        if !sendQuery(query, to: address, owner: .sample(operation), now: now) {
            events.append(.requestFailed(operation, address, nil))
        }
        return operation
    }

    /// A node someone told us about (BEP 5 PORT message): ping it, and it
    /// joins the table if it answers and fits.
    public mutating func learnedNode(_ address: NodeAddress, now: DHTInstant) {
        guard tables[address.family]?.contains(address) == false else { return }
        maintenancePing(address, now: now)
    }

    /// Looks up the nodes closest to `target`.
    @discardableResult
    public mutating func findNode(_ target: NodeID, family: IPAddress.Family, now: DHTInstant) -> DHTOperation {
        let operation = makeOperation()
        let traversal = FindNodeTraversal(operation: operation, family: family, kind: .findNode,
                                          lookup: makeLookup(target: target, family: family, now: now), now: now)
        start(traversal, now: now)
        return operation
    }

    public enum Announce: Sendable, Equatable {
        /// Announce this TCP port.
        case port(UInt16)
        /// Announce the UDP source port the nodes see (BEP 5 implied_port).
        case impliedPort
    }

    /// Looks up peers for `infoHash` (`.peers` events as they come), then
    /// announces us to the closest nodes that gave tokens when `announce` is set.
    @discardableResult
    public mutating func getPeers(_ infoHash: NodeID, family: IPAddress.Family, announce: Announce? = nil,
                                  now: DHTInstant) -> DHTOperation {
        let operation = makeOperation()
        let port: UInt16?? = announce.map { mode -> UInt16? in
            if case .port(let value) = mode { return value }
            return nil
        }
        // Peers announced to us count too (in a small network we may be the node that stores them).
        let local = peerStore.peers(for: infoHash, family: family, limit: 200, now: now, using: &random)
        let traversal = GetPeersTraversal(operation: operation, family: family,
                                          lookup: makeLookup(target: infoHash, family: family, now: now),
                                          announcePort: port, knownPeers: local, now: now)
        if !local.isEmpty { events.append(.peers(operation, local)) }
        start(traversal, now: now)
        return operation
    }

    /// Walks toward `target` collecting BEP 51 samples from every node on the way.
    @discardableResult
    public mutating func sampleInfohashes(toward target: NodeID, family: IPAddress.Family, now: DHTInstant) -> DHTOperation {
        let operation = makeOperation()
        let traversal = SampleInfohashesTraversal(operation: operation, family: family,
                                                  lookup: makeLookup(target: target, family: family, now: now), now: now)
        start(traversal, now: now)
        return operation
    }

    /// Whether a traversal is still running.
    public func isRunning(_ operation: DHTOperation) -> Bool { traversals[operation] != nil }

    // MARK: Helpers shared by the extensions

    mutating func makeOperation() -> DHTOperation {
        defer { nextOperation += 1 }
        return DHTOperation(rawValue: nextOperation)
    }

    /// A lookup seeded with the closest nodes we know (2K, so a few dead ones
    /// do not matter), and with the bootstrap nodes while the table is still
    /// small (a lookup started right after launch then works at once).
    func makeLookup(target: NodeID, family: IPAddress.Family, now: DHTInstant) -> Lookup {
        var lookup = Lookup(target: target, k: configuration.k, alpha: configuration.alpha)
        if let table = tables[family] {
            lookup.offer(table.closest(to: target, count: configuration.k * 2, now: now), excluding: table.ownID)
            if table.count < configuration.k { lookup.addSeeds(bootstrap[family]?.seeds ?? []) }
        }
        return lookup
    }

    /// Families we ask for in `want` (BEP 32): only when we can use both.
    var wantedFamilies: WantedFamilies {
        configuration.families.count > 1 ? [.v4, .v6] : []
    }

    mutating func allowQuery(from source: NodeAddress, now: DHTInstant) -> Bool {
        if configuration.rateLimitExemptsLoopback, source.ip.isLoopback { return true }
        return rateLimiter.allow(source.ip, now: now)
    }
}

/// One of our queries awaiting its answer.
struct PendingQuery: Sendable {
    enum Owner: Sendable {
        case traversal(DHTOperation)
        case ping(DHTOperation)
        case sample(DHTOperation)
        /// Table upkeep: nobody waits for the answer.
        case maintenance
    }

    var address: NodeAddress
    var sentAt: DHTInstant
    var owner: Owner
    var serial: UInt64
}

enum TimerEntry: Sendable {
    case slow(transaction: UInt32, serial: UInt64)
    case expire(transaction: UInt32, serial: UInt64)
}

/// Per-family bootstrap progress, with exponential backoff while nothing answers.
struct BootstrapState: Sendable {
    var seeds: [NodeAddress] = []
    var running: DHTOperation?
    var nextAttempt: DHTInstant
    var backoff: DHTDuration
    var succeededOnce = false
    /// After a restore, the bootstrap list waits until then for the saved nodes to answer.
    var savedNodesDeadline = DHTInstant.zero
}
