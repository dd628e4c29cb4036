import Identity

/// What a router does, as `bitfountain router`'s flags set it. Defaults
/// follow bittorrent/bootstrap-dht where it has one.
public struct RouterConfiguration: Sendable {
    /// Contacts kept per address family.
    public var capacity = 1_000_000
    public static let maxCapacity = 10_000_000
    /// How long after a node's first query the admission ping goes out. A
    /// node still there after this long is worth handing to others.
    public var admitDelay: DHTDuration = .minutes(15)
    /// Serve (and admit) private, loopback and other reserved source addresses.
    public var allowPrivate = false
    /// Nodes in a reply, and in a reply to a requester seen within `recentWindow`.
    public var replyNodes = 8
    public var recentReplyNodes = 3
    public var recentWindow: DHTDuration = .minutes(10)
    /// At most one admission ping per requester per this interval; a due ping
    /// is skipped when the ring saw the contact alive within it.
    public var requeueInterval: DHTDuration = .minutes(60)
    /// Per-IP token bucket for every packet (0 turns the limit off).
    public var rateLimitPerSecond: Double = 50
    public var rateLimitBurst: Double = 200
    /// Slots of the per-IP rate limiter and of the table of recent requesters, for
    /// the whole router: each worker gets its share (it sees its share of the sources).
    public var rateLimiterSlots = 1 << 16
    public var requesterSlots = 1 << 18
    /// Admission pings waiting for their time, for the whole router (split the same way).
    public var admissionQueueCapacity = 1 << 18
    /// SYN-cookie secret lifetime: a cookie is valid for one to two of these.
    public var cookieRotation: DHTDuration = .minutes(2)
    /// `v` in what the router sends.
    public var version: [UInt8] = KRPCWriter.defaultVersion

    public init() {}

    /// What one of `workers` workers gets: an even share of the capacity and tables.
    public func share(workers: Int) -> RouterConfiguration {
        let workers = max(1, workers)
        var share = self
        share.capacity = (capacity + workers - 1) / workers
        share.rateLimiterSlots = max(4_096, rateLimiterSlots / workers)
        share.requesterSlots = max(4_096, requesterSlots / workers)
        share.admissionQueueCapacity = max(1_024, admissionQueueCapacity / workers)
        return share
    }
}

/// What a router has done, counted per worker in plain integers (no atomics
/// on the packet path) and added up when published.
public struct RouterCounters: Sendable, Equatable {
    public var pingQueries = 0
    public var findNodeQueries = 0
    public var getPeersQueries = 0
    public var announcePeerQueries = 0
    public var otherQueries = 0
    public var replies = 0
    public var errorReplies = 0
    public var droppedMalformed = 0
    public var droppedRateLimited = 0
    public var droppedBogon = 0
    public var droppedUnroutable = 0
    public var droppedOversized = 0
    /// Responses whose transaction ID is not one of our cookies (or has expired).
    public var droppedBadCookie = 0
    /// Pongs whose node ID fails BEP 42 for their address (or that are read-only).
    public var rejectedContacts = 0
    public var admissionQueueFull = 0
    public var pingsSent = 0
    /// Due pings not sent because the ring saw the contact alive recently.
    public var pingsSkipped = 0
    public var pingsAnswered = 0
    public var contactsAdded = 0
    public var contactsReplaced = 0
    public var contactsRefreshed = 0

    public init() {}

    public var queries: Int { pingQueries + findNodeQueries + getPeersQueries + announcePeerQueries + otherQueries }
    public var dropped: Int {
        droppedMalformed + droppedRateLimited + droppedBogon + droppedUnroutable + droppedOversized + droppedBadCookie
    }

    public static func + (lhs: RouterCounters, rhs: RouterCounters) -> RouterCounters {
        var sum = lhs
        sum.pingQueries += rhs.pingQueries
        sum.findNodeQueries += rhs.findNodeQueries
        sum.getPeersQueries += rhs.getPeersQueries
        sum.announcePeerQueries += rhs.announcePeerQueries
        sum.otherQueries += rhs.otherQueries
        sum.replies += rhs.replies
        sum.errorReplies += rhs.errorReplies
        sum.droppedMalformed += rhs.droppedMalformed
        sum.droppedRateLimited += rhs.droppedRateLimited
        sum.droppedBogon += rhs.droppedBogon
        sum.droppedUnroutable += rhs.droppedUnroutable
        sum.droppedOversized += rhs.droppedOversized
        sum.droppedBadCookie += rhs.droppedBadCookie
        sum.rejectedContacts += rhs.rejectedContacts
        sum.admissionQueueFull += rhs.admissionQueueFull
        sum.pingsSent += rhs.pingsSent
        sum.pingsSkipped += rhs.pingsSkipped
        sum.pingsAnswered += rhs.pingsAnswered
        sum.contactsAdded += rhs.contactsAdded
        sum.contactsReplaced += rhs.contactsReplaced
        sum.contactsRefreshed += rhs.contactsRefreshed
        return sum
    }
}
