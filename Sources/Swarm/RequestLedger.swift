import PeerWire

/// A request for part of one piece: a block (BEP 3) or a bf_fountain symbol.
protocol PieceRequest: Hashable, Sendable {
    var piece: Int { get }
}

extension BlockRequest: PieceRequest {}
extension SymbolRequest: PieceRequest {}

/// What we asked one peer for and are waiting on, of one kind (blocks or
/// symbols: the bookkeeping is the same). Each request is *outstanding*
/// (sent, answer expected, time kept for timeouts and arrival estimates) or
/// *late* (we stopped counting on it: a timeout, a choke, an endgame cancel,
/// the piece completed elsewhere; its data is still taken if it comes, since
/// cancels cross answers on the wire), or unknown.
struct RequestLedger<Request: PieceRequest>: Sendable {
    /// How a delivery matched what we asked for.
    enum Delivery: Equatable {
        case answered
        case late
        case unrequested
    }

    private(set) var outstanding: [Request: Double] = [:]
    var late: Set<Request> = []

    var count: Int { outstanding.count }
    func contains(_ request: Request) -> Bool { outstanding[request] != nil }

    mutating func record(_ request: Request, sentAt now: Double) {
        outstanding[request] = now
    }

    /// Data for `request` arrived: it leaves the ledger either way.
    mutating func settle(_ request: Request) -> Delivery {
        if outstanding.removeValue(forKey: request) != nil { return .answered }
        if late.remove(request) != nil { return .late }
        return .unrequested
    }

    /// The peer said it will not answer (a reject): nothing more is expected.
    @discardableResult
    mutating func withdraw(_ request: Request) -> Bool {
        outstanding.removeValue(forKey: request) != nil
    }

    /// Withdraws every request of a piece; returns them.
    mutating func withdraw(piece: Int) -> [Request] {
        let matching = outstanding.keys.filter { $0.piece == piece }
        for request in matching { outstanding.removeValue(forKey: request) }
        return matching
    }

    /// We stop counting on `request`, but take its data should it come.
    @discardableResult
    mutating func abandon(_ request: Request) -> Bool {
        guard outstanding.removeValue(forKey: request) != nil else { return false }
        late.insert(request)
        return true
    }

    /// Abandons every request of a piece; returns them.
    mutating func abandon(piece: Int) -> [Request] {
        let matching = outstanding.keys.filter { $0.piece == piece }
        for request in matching { abandon(request) }
        return matching
    }

    /// Abandons everything outstanding; returns what was.
    mutating func abandonAll() -> [Request] {
        let all = Array(outstanding.keys)
        late.formUnion(all)
        outstanding.removeAll(keepingCapacity: true)
        return all
    }

    /// Nothing else removes late requests (their data may never come), so past
    /// `cap` those of pieces `isSettled` says are done (they can only bring
    /// waste) are forgotten, and a long download does not keep every request
    /// it ever dropped.
    mutating func forgetLate(beyond cap: Int, isSettled: (Int) -> Bool) {
        guard late.count > cap else { return }
        late = late.filter { !isSettled($0.piece) }
    }
}
