import Identity

/// A node in the routing table and what we know of its liveness (BEP 5).
public struct RoutingEntry: Sendable, Hashable {
    public var contact: NodeContact
    public var tier: TrustTier
    /// When it last answered one of our queries; nil if it never has.
    public var lastResponse: DHTInstant?
    /// When it last sent us a query.
    public var lastQuery: DHTInstant?
    /// Queries in a row it failed to answer.
    public var failedQueries: Int = 0
    /// Last measured round trip.
    public var roundTrip: DHTDuration?

    public init(contact: NodeContact, tier: TrustTier, lastResponse: DHTInstant?, roundTrip: DHTDuration? = nil) {
        self.contact = contact
        self.tier = tier
        self.lastResponse = lastResponse
        self.roundTrip = roundTrip
    }

    public var id: NodeID { contact.id }
    public var address: NodeAddress { contact.address }

    public enum Status: Sendable { case good, questionable, bad }

    /// BEP 5: good if it answered within 15 minutes, or has ever answered and
    /// queried us within 15 minutes; bad after repeated failures.
    public func status(now: DHTInstant, timings: RoutingTable.Timings) -> Status {
        if failedQueries >= timings.failuresBeforeBad || (lastResponse == nil && failedQueries > 0) { return .bad }
        if let lastResponse, now.since(lastResponse) < timings.goodFor { return .good }
        if lastResponse != nil, let lastQuery, now.since(lastQuery) < timings.goodFor { return .good }
        return .questionable
    }

    /// The later of its last response and last query.
    var lastActivity: DHTInstant {
        max(lastResponse ?? .zero, lastQuery ?? .zero)
    }
}

/// Up to K nodes sharing a prefix with our ID, plus a cache of candidates
/// that can step in when a member goes bad.
struct Bucket: Sendable {
    var entries: [RoutingEntry] = []
    var replacements: [RoutingEntry] = []
    /// When a member last answered or the bucket last changed; drives refresh.
    var lastChanged: DHTInstant
    /// Set after joining: refresh this bucket soon, however recently it changed.
    var refreshDue = false

    init(lastChanged: DHTInstant) {
        self.lastChanged = lastChanged
    }

    func index(of address: NodeAddress) -> Int? { entries.firstIndex { $0.address == address } }
    func replacementIndex(of address: NodeAddress) -> Int? { replacements.firstIndex { $0.address == address } }
}
