import PeerWire

/// A request for part of one piece: a block (BEP 3) or a bf_fountain symbol.
/// One ledger holds both, so pipelines, timeouts and the choke, reject and
/// disconnect paths are written once for the two kinds.
enum PieceRequest: Hashable, Sendable {
    case block(BlockRequest)
    case symbol(SymbolRequest)

    enum Kind: Sendable { case block, symbol }

    var piece: Int {
        switch self {
        case .block(let request): request.piece
        case .symbol(let request): request.piece
        }
    }

    /// The block, when it is one (blocks can be cancelled on the wire; symbols cannot).
    var block: BlockRequest? {
        if case .block(let request) = self { return request }
        return nil
    }

    var kind: Kind {
        switch self {
        case .block: .block
        case .symbol: .symbol
        }
    }
}

/// What we asked one peer for and are waiting on, blocks and symbols alike.
/// Each request is *outstanding* (sent, answer expected, time kept for
/// arrival estimates) or *late* (we stopped counting on it: a timeout, a
/// choke, an endgame cancel, the piece completed elsewhere; its data is still
/// taken if it comes, since cancels cross answers on the wire), or unknown.
///
/// The ledger also keeps the peer's timeout clock: when it last delivered
/// something asked for, or when we started waiting on it after an idle spell.
struct RequestLedger: Sendable {
    /// How a delivery matched what we asked for.
    enum Delivery: Equatable {
        case answered
        case late
        case unrequested
    }

    private(set) var outstanding: [PieceRequest: Double] = [:]
    var late: Set<PieceRequest> = []
    /// The last delivery of something asked for, or the first request after
    /// the pipeline was empty: a peer is timed out or stalled by the silence since.
    private(set) var lastProgressAt: Double

    init(now: Double = 0) { lastProgressAt = now }

    var count: Int { outstanding.count }
    func contains(_ request: PieceRequest) -> Bool { outstanding[request] != nil }

    /// The request was sent. The first one into an empty pipeline starts the
    /// timeout clock: a peer is not blamed for a silence while nothing was asked.
    mutating func record(_ request: PieceRequest, sentAt now: Double) {
        if outstanding.isEmpty { lastProgressAt = now }
        outstanding[request] = now
    }

    /// Data for `request` arrived: it leaves the ledger either way, and
    /// anything asked for (even late) counts as progress.
    mutating func settle(_ request: PieceRequest, at now: Double) -> Delivery {
        let delivery: Delivery
        if outstanding.removeValue(forKey: request) != nil {
            delivery = .answered
        } else if late.remove(request) != nil {
            delivery = .late
        } else {
            return .unrequested
        }
        lastProgressAt = now
        return delivery
    }

    /// Silence (no delivery) for longer than `timeout` while requests are out.
    func isTimedOut(now: Double, after timeout: Double) -> Bool {
        !outstanding.isEmpty && now - lastProgressAt > timeout
    }

    /// A peer we wait on that has sent nothing for much longer than its
    /// `rate` explains (frozen, or its link is): its queue is not counted on.
    /// The smoothed rate alone would take many seconds to fall to zero.
    func isStalled(now: Double, rate: Double) -> Bool {
        guard !outstanding.isEmpty else { return false }
        let gap = rate > 0 ? Double(blockSize) / rate : .infinity
        return now - lastProgressAt > max(Self.stallAfter, 8 * gap)
    }

    /// Silence (seconds) after which a peer with requests out counts as stalled, at the least.
    static let stallAfter = 0.5

    /// The peer said it will not answer (a reject): nothing more is expected.
    @discardableResult
    mutating func withdraw(_ request: PieceRequest) -> Bool {
        outstanding.removeValue(forKey: request) != nil
    }

    /// Withdraws every request of one kind for a piece; returns them.
    mutating func withdraw(piece: Int, kind: PieceRequest.Kind) -> [PieceRequest] {
        let matching = requests(piece: piece, kind: kind)
        for request in matching { outstanding.removeValue(forKey: request) }
        return matching
    }

    /// We stop counting on `request`, but take its data should it come.
    @discardableResult
    mutating func abandon(_ request: PieceRequest) -> Bool {
        guard outstanding.removeValue(forKey: request) != nil else { return false }
        late.insert(request)
        return true
    }

    /// Abandons every request of one kind for a piece; returns them.
    mutating func abandon(piece: Int, kind: PieceRequest.Kind) -> [PieceRequest] {
        let matching = requests(piece: piece, kind: kind)
        for request in matching { abandon(request) }
        return matching
    }

    /// Abandons everything outstanding; returns what was.
    mutating func abandonAll() -> [PieceRequest] {
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

    private func requests(piece: Int, kind: PieceRequest.Kind) -> [PieceRequest] {
        outstanding.keys.filter { $0.piece == piece && $0.kind == kind }
    }
}
