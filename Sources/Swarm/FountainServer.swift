/// bf_fountain serving (DESIGN §5), as a sub-machine of `TorrentMachine`: it
/// decides which of a peer's symbol requests are taken on and keeps, per
/// peer, the symbols still owed until the adapter has written them.
///
/// Symbols share a peer's serve queue with blocks: what one peer may have
/// outstanding with us is bounded by `queueLimit` in all, so a flood of
/// requests cannot make us encode without end. bf_fountain has no cancel: a
/// request is dropped when the peer gets the piece (`have`), when we choke it,
/// or when we reject it; the adapter then stops encoding what is no longer
/// owed. The machine checks what only it knows (the piece is valid and
/// verified, the peer may be served) and sends the messages. Sans-I/O.
struct FountainServer: Sendable {
    typealias PeerKey = PeerRecord.Key

    /// What to do with a symbol request.
    enum Answer: Equatable, Sendable {
        /// Encode and send these ESIs (the request less what is already owed).
        case serve([UInt32])
        /// Refuse the piece: the peer may not have it now, or its queue is full.
        case reject
        /// Everything asked for is owed already: nothing to do.
        case alreadyOwed
    }

    /// Most blocks and symbols one peer may have queued with us.
    let queueLimit: Int
    /// Symbols owed to each peer, by piece, and their number.
    private var owed: [PeerKey: [Int: Set<UInt32>]] = [:]
    private var owedCount: [PeerKey: Int] = [:]
    /// Symbols written to peers in this session.
    private(set) var symbolsSent = 0

    init(queueLimit: Int) { self.queueLimit = queueLimit }

    /// A peer asks for symbols of a piece. `servable`: we have verified the
    /// piece and do not choke the peer (or the piece is allowed-fast for it);
    /// `blocksQueued`: the blocks we are serving it, which share its queue.
    mutating func request(piece: Int, esis: [UInt32], from key: PeerKey, servable: Bool, blocksQueued: Int) -> Answer {
        guard servable else { return .reject }
        var pieceOwed = owed[key]?[piece] ?? []
        // Repeats, within the request or of what is owed, are sent once.
        let fresh = esis.filter { pieceOwed.insert($0).inserted }
        guard !fresh.isEmpty else { return .alreadyOwed }
        guard blocksQueued + owedCount(to: key) + fresh.count <= queueLimit else { return .reject }
        owed[key, default: [:]][piece] = pieceOwed
        owedCount[key, default: 0] += fresh.count
        return .serve(fresh)
    }

    /// Symbols owed to a peer, all pieces together.
    func owedCount(to key: PeerKey) -> Int { owedCount[key] ?? 0 }

    /// Whether the symbol is still owed (not dropped since it was asked for).
    func isOwed(piece: Int, esi: UInt32, to key: PeerKey) -> Bool { owed[key]?[piece]?.contains(esi) == true }

    /// Whether any symbol of the piece is owed to the peer.
    func owes(piece: Int, to key: PeerKey) -> Bool { owed[key]?[piece] != nil }

    /// Pieces with symbols owed to a peer, in order.
    func owedPieces(to key: PeerKey) -> [Int] { owed[key].map { $0.keys.sorted() } ?? [] }

    /// Forgets what is owed of a piece (the peer has it, was choked, or is
    /// refused). True when something was: the adapter must stop encoding it.
    mutating func drop(piece: Int, to key: PeerKey) -> Bool {
        guard let symbols = owed[key]?.removeValue(forKey: piece) else { return false }
        reduceCount(of: key, by: symbols.count)
        return true
    }

    /// The adapter wrote a symbol. False when it was not owed (dropped meanwhile): it does not count.
    mutating func sent(piece: Int, esi: UInt32, to key: PeerKey) -> Bool {
        guard owed[key]?[piece]?.remove(esi) != nil else { return false }
        if owed[key]![piece]!.isEmpty { owed[key]!.removeValue(forKey: piece) }
        reduceCount(of: key, by: 1)
        symbolsSent += 1
        return true
    }

    /// The peer left: nothing is owed to it any more.
    mutating func peerGone(_ key: PeerKey) {
        owed.removeValue(forKey: key)
        owedCount.removeValue(forKey: key)
    }

    /// Empty entries are removed, so the books hold only peers that are owed something.
    private mutating func reduceCount(of key: PeerKey, by count: Int) {
        let left = owedCount[key, default: 0] - count
        if left > 0 {
            owedCount[key] = left
        } else {
            owedCount.removeValue(forKey: key)
            owed.removeValue(forKey: key)
        }
    }
}
