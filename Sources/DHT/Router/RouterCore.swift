import Metainfo
import Identity

/// The sans-I/O core of `bitfountain router`, after bittorrent/bootstrap-dht:
/// a bootstrap node that stores no peers and keeps no routing table, only a
/// large ring of contacts that proved themselves alive, and hands a few of
/// them to whoever asks.
///
/// - Every query is answered from the ring: 8 contacts, or 3 to a requester
///   seen in the last 10 minutes (it has bootstrapped already). `announce_peer`
///   and BEP 44 `put` get error 203 (a BEP 44 `get` is answered like
///   find_node, with no token), unknown methods without a target 204.
/// - A requester becomes a contact only by answering, `admitDelay` after its
///   first query, a ping whose transaction ID is a SYN cookie (`AdmissionCookies`);
///   its ID must pass BEP 42 for public addresses.
/// - Bogon sources are dropped (unless `allowPrivate`), every source is rate
///   limited, and all state has a fixed size.
///
/// One core runs per worker thread, each with its own share of the ring and
/// tables, so nothing is shared and nothing is locked. The core is driven with
/// wall-clock time (nanoseconds since 1970): "last seen" times are persisted.
/// Packets are written into the caller's buffer; nothing is allocated per packet.
public struct RouterCore: ~Copyable {
    public let nodeID: NodeID
    public let configuration: RouterConfiguration
    public private(set) var ring4: ContactRing
    public private(set) var ring6: ContactRing
    public var counters = RouterCounters()
    private var requesters: RequesterTable
    private var limiter: RateLimiter
    private var queue: AdmissionQueue
    private var cookies: AdmissionCookies
    private var random: SeededRandom
    private let writer: RouterPacketWriter
    /// Contacts of the other workers' rings (compact node infos), refreshed
    /// by the runtime a few times a second: they top up replies while this
    /// worker's own share of the ring holds fewer than a reply's worth.
    private var shared4: [UInt8] = []
    private var shared6: [UInt8] = []
    /// Which worker's ring each contact belongs in (see `RouterShard`).
    public let shard: RouterShard
    /// Proven contacts whose home is another worker's ring, until the runtime takes them there.
    private var forwarded: [ProvenContact] = []
    /// Proven contacts waiting for the rings to finish indexing after a restart (bounded).
    private var waitingForIndex: [ProvenContact] = []
    private static let maxWaitingForIndex = 4_096

    /// `ring4` / `ring6` are this worker's share of the contacts (a ring of
    /// capacity 0 for a family the router does not serve). `secret` keys the
    /// cookies and must be the same for every worker; `seed` is this worker's own.
    public init(configuration: RouterConfiguration, nodeID: NodeID, ring4: consuming ContactRing,
                ring6: consuming ContactRing, secret: (UInt64, UInt64), seed: UInt64, shard: RouterShard = .single) {
        self.configuration = configuration
        self.shard = shard
        self.nodeID = nodeID
        self.ring4 = ring4
        self.ring6 = ring6
        var random = SeededRandom(seed: seed)
        requesters = RequesterTable(slotCount: configuration.requesterSlots, recentWindow: configuration.recentWindow,
                                    requeueInterval: configuration.requeueInterval,
                                    hashKey: (random.next(), random.next()))
        limiter = RateLimiter(perSecond: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst,
                              slotCount: configuration.rateLimiterSlots, key: random.next())
        queue = AdmissionQueue(capacity: configuration.admissionQueueCapacity)
        cookies = AdmissionCookies(key0: secret.0, key1: secret.1, rotation: configuration.cookieRotation)
        self.random = random
        writer = RouterPacketWriter(nodeID: nodeID, version: configuration.version)
    }

    /// Bytes a send buffer must hold.
    public static var sendBufferSize: Int { RouterPacketWriter.maxPacketSize }

    public var pendingAdmissions: Int { queue.count }

    // MARK: Input

    /// Handles one datagram from `source`. When it calls for an answer, the
    /// answer is written to `reply` (at least `sendBufferSize` bytes) for
    /// `source`, and its length returned; 0 means nothing to send.
    public mutating func receive(_ packet: UnsafeRawBufferPointer, from source: NodeAddress, now: DHTInstant,
                                 reply: UnsafeMutableRawBufferPointer) -> Int {
        switch RouterAddressFilter.classify(source, allowPrivate: configuration.allowPrivate) {
        case .serve: break
        case .bogon:
            counters.droppedBogon += 1
            return 0
        case .unroutable:
            counters.droppedUnroutable += 1
            return 0
        }
        guard packet.count <= KRPCDecoder.maxPacketSize else {
            counters.droppedOversized += 1
            return 0
        }
        if configuration.rateLimitPerSecond > 0, !limiter.allow(RouterKeys.limiterKey(source), now: now) {
            counters.droppedRateLimited += 1
            return 0
        }
        let message: KRPCMessage
        do {
            message = try KRPCDecoder.decode(packet)
        } catch {
            counters.droppedMalformed += 1
            guard error.isQuery, let transactionID = error.transactionID else { return 0 }
            return writeError(KRPCError.protocolError, "malformed query", transactionID: transactionID, into: reply)
        }
        switch message.body {
        case .query(let query):
            return answer(query, message: message, from: source, now: now, into: reply)
        case .response(let response):
            admit(response.id, message: message, from: source, now: now)
            return 0
        case .error:
            counters.droppedBadCookie += 1
            return 0
        }
    }

    private mutating func answer(_ query: KRPCQuery, message: KRPCMessage, from source: NodeAddress, now: DHTInstant,
                                 into reply: UnsafeMutableRawBufferPointer) -> Int {
        let seconds = Self.seconds(now)
        let sighting = requesters.note(source, seconds: seconds)
        let nodes = sighting.recent ? configuration.recentReplyNodes : configuration.replyNodes
        var out = PacketCursor(reply)
        switch query {
        case .ping:
            counters.pingQueries += 1
            writer.startReply(&out, requester: source)
        case .findNode(_, _, let want):
            counters.findNodeQueries += 1
            writeNodesReply(&out, to: source, nodes: nodes, want: want)
        case .getPeers(_, _, let want):
            counters.getPeersQueries += 1
            writeNodesReply(&out, to: source, nodes: nodes, want: want)
        case .sampleInfohashes(_, _, let want), .get(_, _, _, let want), .unknown(_, _, .some, let want):
            counters.otherQueries += 1
            writeNodesReply(&out, to: source, nodes: nodes, want: want)
        case .announcePeer:
            counters.announcePeerQueries += 1
            return writeError(KRPCError.protocolError, "a router stores no peers", transactionID: message.transactionID,
                              into: reply)
        case .put:
            // BEP 44 get is answered like find_node without a token, so no
            // client should put here; one that does learns nothing was stored.
            counters.otherQueries += 1
            return writeError(KRPCError.protocolError, "a router stores no items", transactionID: message.transactionID,
                              into: reply)
        case .unknown(_, _, .none, _):
            counters.otherQueries += 1
            return writeError(KRPCError.methodUnknown, "method unknown", transactionID: message.transactionID, into: reply)
        }
        writer.finishReply(&out, transactionID: message.transactionID)
        counters.replies += 1
        if sighting.pingDue, !message.readOnly { schedulePing(source, id: query.senderID, now: now) }
        return out.position
    }

    /// A reply's `nodes` (and `nodes6` when BEP 32's `want` asks for it), a
    /// random run of consecutive ring entries per family.
    @inline(__always)
    private mutating func writeNodesReply(_ out: inout PacketCursor, to source: NodeAddress, nodes: Int, want: WantedFamilies) {
        writer.startReply(&out, requester: source)
        let wantV4 = want.isEmpty ? source.family == .v4 : want.contains(.v4)
        let wantV6 = want.isEmpty ? source.family == .v6 : want.contains(.v6)
        if wantV4 { Self.writeContacts(&out, from: ring4, shared: shared4, nodes: nodes, writer: writer, random: &random) }
        if wantV6 { Self.writeContacts(&out, from: ring6, shared: shared6, nodes: nodes, writer: writer, random: &random) }
    }

    @inline(__always)
    private static func writeContacts(_ out: inout PacketCursor, from ring: borrowing ContactRing, shared: [UInt8], nodes: Int,
                                      writer: RouterPacketWriter, random: inout SeededRandom) {
        let size = ContactRingLayout.compactSize(ring.family)
        let own = min(nodes, ring.count)
        let extra = own < nodes ? min(nodes - own, shared.count / size) : 0
        guard own + extra > 0 else { return }
        writer.nodesKey(&out, family: ring.family, count: own + extra)
        out.advance(size * ring.copyContacts(own, start: random.next(), into: out.here))
        guard extra > 0 else { return }
        let available = shared.count / size
        var position = Int(truncatingIfNeeded: random.next() % UInt64(available))
        shared.withUnsafeBytes { bytes in
            for _ in 0..<extra {
                out.raw(UnsafeRawBufferPointer(rebasing: bytes[(position * size)..<((position + 1) * size)]))
                position = position + 1 == available ? 0 : position + 1
            }
        }
    }

    // MARK: Sharing between workers

    /// Up to `limit` consecutive contacts of this worker's ring, from a random
    /// place, as compact node infos: what the runtime hands the other workers.
    public mutating func sampleContacts(_ family: IPAddress.Family, limit: Int) -> [UInt8] {
        let size = ContactRingLayout.compactSize(family)
        var bytes = [UInt8](repeating: 0, count: limit * size)
        let start = random.next()
        let copied = bytes.withUnsafeMutableBytes { raw in
            family == .v4 ? ring4.copyContacts(limit, start: start, into: raw.baseAddress!)
                : ring6.copyContacts(limit, start: start, into: raw.baseAddress!)
        }
        bytes.removeLast((limit - copied) * size)
        return bytes
    }

    /// The other workers' samples (compact node infos of `family`).
    public mutating func setSharedContacts(_ bytes: [UInt8], family: IPAddress.Family) {
        let size = ContactRingLayout.compactSize(family)
        let whole = Array(bytes.prefix(bytes.count / size * size))
        if family == .v4 { shared4 = whole } else { shared6 = whole }
    }

    private mutating func writeError(_ code: Int64, _ text: StaticString, transactionID: ShortBytes,
                                     into reply: UnsafeMutableRawBufferPointer) -> Int {
        var out = PacketCursor(reply)
        writer.error(&out, code: code, message: text, transactionID: transactionID)
        counters.errorReplies += 1
        return out.position
    }

    // MARK: Admission

    /// Queues the admission ping for a requester, unless its ID could never
    /// be admitted (BEP 42) or the queue is full.
    private mutating func schedulePing(_ source: NodeAddress, id: NodeID, now: DHTInstant) {
        guard ringCapacity(source.family) > 0, BEP42.isValid(id, for: source.ip) else { return }
        if !queue.push(source, due: now + configuration.admitDelay) { counters.admissionQueueFull += 1 }
    }

    /// A response: a pong to one of our admission pings if its transaction
    /// ID is a live cookie for its source address.
    private mutating func admit(_ id: NodeID, message: KRPCMessage, from source: NodeAddress, now: DHTInstant) {
        guard let cookie = Self.cookie(message.transactionID), cookies.isValid(cookie, for: source, now: now) else {
            counters.droppedBadCookie += 1
            return
        }
        counters.pingsAnswered += 1
        guard !message.readOnly, BEP42.isValid(id, for: source.ip) else {
            counters.rejectedContacts += 1
            return
        }
        let contact = ProvenContact(id: id, address: source, seen: Self.seconds(now))
        guard shard.home(of: source) == shard.index else {
            forwarded.append(contact)
            return
        }
        store(contact)
    }

    private mutating func store(_ contact: ProvenContact) {
        guard ring4.isIndexed, ring6.isIndexed else {
            if waitingForIndex.count < Self.maxWaitingForIndex { waitingForIndex.append(contact) }
            return
        }
        let admission = contact.address.family == .v4 ? ring4.admit(id: contact.id, address: contact.address, seen: contact.seen)
            : ring6.admit(id: contact.id, address: contact.address, seen: contact.seen)
        switch admission {
        case .added: counters.contactsAdded += 1
        case .replaced: counters.contactsReplaced += 1
        case .refreshed: counters.contactsRefreshed += 1
        case nil: counters.rejectedContacts += 1
        }
    }

    /// Whether the rings are indexed (after a restart they serve at once and index in slices).
    public var isRestored: Bool { ring4.isIndexed && ring6.isIndexed }

    /// Indexes up to `budget` more saved entries; returns whether the rings are done.
    public mutating func continueRestoring(budget: Int) -> Bool {
        guard ring4.continueIndexing(budget: budget), ring6.continueIndexing(budget: budget) else { return false }
        let waiting = waitingForIndex
        waitingForIndex = []
        for contact in waiting { store(contact) }
        return true
    }

    /// Contacts proven here that belong in other workers' rings (see `RouterShard`).
    public mutating func takeForwardedContacts() -> [ProvenContact] {
        defer { forwarded.removeAll() }
        return forwarded
    }

    /// Contacts another worker proved, whose home is this worker's ring.
    public mutating func admitForwardedContacts(_ contacts: [ProvenContact]) {
        for contact in contacts where shard.home(of: contact.address) == shard.index { store(contact) }
    }

    /// The next admission ping that is due, written to `packet`: its
    /// destination and length. Call until it returns nil.
    public mutating func nextDuePing(now: DHTInstant, into packet: UnsafeMutableRawBufferPointer) -> (NodeAddress, Int)? {
        let fresh = UInt32(clamping: configuration.requeueInterval.nanoseconds / 1_000_000_000)
        let seconds = Self.seconds(now)
        while let address = queue.popDue(now: now) {
            // Only this worker's ring can be asked; a contact at home elsewhere is simply pinged.
            let seen = shard.home(of: address) != shard.index ? nil
                : address.family == .v4 ? ring4.lastSeen(address) : ring6.lastSeen(address)
            if let seen, seconds &- seen < fresh {
                counters.pingsSkipped += 1
                continue
            }
            var out = PacketCursor(packet)
            writer.ping(&out, cookie: cookies.cookie(for: address, now: now))
            counters.pingsSent += 1
            return (address, out.position)
        }
        return nil
    }

    /// When the next admission ping is due, if any is queued.
    public var nextWakeup: DHTInstant? { queue.nextDue }

    // MARK: Helpers

    private func ringCapacity(_ family: IPAddress.Family) -> Int { family == .v4 ? ring4.capacity : ring6.capacity }

    @inline(__always)
    static func seconds(_ now: DHTInstant) -> UInt32 { UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000_000) }

    private static func cookie(_ transactionID: ShortBytes) -> UInt64? {
        guard transactionID.count == AdmissionCookies.length else { return nil }
        return transactionID.withUnsafeBytes { bytes in bytes.reduce(0) { $0 << 8 | UInt64($1) } }
    }
}
