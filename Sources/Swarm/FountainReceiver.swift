import PeerWire

/// bf_fountain receiving (DESIGN §5), as a sub-machine of `TorrentMachine`:
/// when to ask a peer for repair symbols, what a decode attempt's outcome
/// means for its piece, and the symbol-side books (the pieces each peer
/// refused symbols of, what each sent, the session's totals).
///
/// Blocks stay the first choice: any peer serves them and a piece made of its
/// blocks needs no decoding. Repair symbols come in where blocks cannot do
/// the job, and then no specific block is ever waited for:
/// - *coverage*: a piece needs more symbols than it has in hand and asked for
///   (an attempt that could not be solved wants K+1, K+2; a suspect is being
///   left out; the test mode that asks for repair symbols only);
/// - *endgame hedging*: once nothing new can start, a peer with room takes
///   over, as repair symbols of the same pieces, the work queued behind longer
///   queues at slower (or stalled) peers, instead of duplicating their blocks.
///   Whichever K symbols arrive first complete a piece, so nothing is wasted
///   but what is still in flight when it completes.
///
/// What a piece has received and asked for lives with the piece
/// (`PieceAssembly.repair`, SymbolAssembly.swift), since a decode job reads
/// blocks and symbols together and a ban purges both; what is outstanding at
/// each peer is in its request ledger (RequestLedger.swift). The machine
/// gathers the views, asks, and carries the answers out. Sans-I/O.
struct FountainReceiver: Sendable {
    typealias PeerKey = PeerRecord.Key

    /// Pieces each peer refused symbols of: not asked again until it unchokes us.
    private var refusedPieces: [PeerKey: Set<Int>] = [:]
    /// Repair symbols each connected peer sent that were used.
    private var receivedFrom: [PeerKey: Int] = [:]
    /// Repair symbols used, pieces rebuilt from them, and wrong symbols found.
    private(set) var symbolsReceived = 0
    private(set) var piecesDecoded = 0
    private(set) var pollutedSymbols = 0

    /// Refusals kept per peer: a reject costs it ~25 bytes, so the set is bounded.
    static let refusalsKept = 4096
    /// Seconds by which another peer's request must be expected later than ours to be hedged.
    static let hedgeMargin = 0.25

    /// Most repair symbols asked of one peer for one piece.
    static func repairCap(sourceSymbols: Int) -> Int { 2 * sourceSymbols + 4 }

    // MARK: Events

    /// The peer rejected our symbol requests for a piece.
    mutating func refused(piece: Int, by key: PeerKey) {
        if refusedPieces[key, default: []].count < Self.refusalsKept { refusedPieces[key, default: []].insert(piece) }
    }

    /// The peer unchoked us: what it refused while choking may be asked of it again.
    mutating func unchoked(by key: PeerKey) { refusedPieces.removeValue(forKey: key) }

    func hasRefused(piece: Int, by key: PeerKey) -> Bool { refusedPieces[key]?.contains(piece) == true }

    /// A repair symbol from the peer was taken into its piece.
    mutating func took(symbolFrom key: PeerKey) {
        receivedFrom[key, default: 0] += 1
        symbolsReceived += 1
    }

    func symbolsTaken(from key: PeerKey) -> Int { receivedFrom[key] ?? 0 }

    mutating func peerGone(_ key: PeerKey) {
        refusedPieces.removeValue(forKey: key)
        receivedFrom.removeValue(forKey: key)
    }

    // MARK: Which symbols to ask for

    /// Coverage: whether `peer` should be asked for one more repair symbol so
    /// that the piece's symbols in hand and on order cover what it needs.
    /// `anotherCanServe`: some other bf_fountain peer, not under suspicion,
    /// has the piece and has not refused it (asked only when it matters).
    func wantsCoverage(_ assembly: PieceAssembly, from peer: PeerKey, anotherCanServe: () -> Bool) -> Bool {
        guard !hasRefused(piece: assembly.piece, by: peer) else { return false }
        var onOrder = assembly.requestedBlockCount + assembly.repair.pending.count
        if let target = assembly.repair.suspect?.target {
            // The suspect is never asked, and what it still owes does not count.
            guard target != peer else { return false }
            onOrder -= assembly.pendingRepair(at: target)
        }
        let need = assembly.symbolsStillNeeded
        guard need > onOrder else { return false }
        // Half of what is missing when someone else can help, so no piece
        // hangs on one peer alone and a polluter's symbols always meet
        // others' (leave-one-out can then single it out). Should the other
        // not serve, this peer is asked again, for half of what is then missing.
        let share = anotherCanServe() ? (need + 1) / 2 : need
        return assembly.pendingRepair(at: peer) < share && Self.belowCap(assembly, peer)
    }

    /// Endgame hedging: whether `peer`, whose answer would come in `arrival`
    /// seconds, should be asked for a repair symbol of the piece because the
    /// symbols it still needs are queued at peers that would deliver later.
    /// `batched`: symbols of the piece already chosen for this peer in this pass.
    func wantsHedge(_ assembly: PieceAssembly, from peer: PeerKey, arrival: Double, queues: QueueView, batched: Int) -> Bool {
        guard !hasRefused(piece: assembly.piece, by: peer), assembly.phase == .collecting,
              assembly.repair.suspect == nil else { return false }
        let need = assembly.symbolsStillNeeded
        guard need > 0, let others = queues.arrivals[assembly.piece] else { return false }
        // Only work that would come clearly later than ours is worth doubling:
        // what a slightly slower queue still owes arrives in time anyway.
        let sooner = others.reduce(0) { $0 + ($1 <= arrival + max(Self.hedgeMargin, arrival / 2) ? 1 : 0) }
        let covered = (queues.own[assembly.piece] ?? 0) + batched + sooner
        return covered < need && sooner < others.count && Self.belowCap(assembly, peer)
    }

    private static func belowCap(_ assembly: PieceAssembly, _ peer: PeerKey) -> Bool {
        assembly.repair.askedOf[peer, default: 0] < repairCap(sourceSymbols: assembly.sourceSymbolCount)
    }

    /// When each request out at other peers should arrive, by piece, plus one peer's own requests by piece.
    struct QueueView: Sendable {
        var arrivals: [Int: [Double]] = [:]
        var own: [Int: Int] = [:]

        /// `others`: each other peer's ledger with the rate it delivers at
        /// (0 for one that is snubbed or stalled: it never delivers). Peers
        /// serve in order, one block-sized answer after another.
        init(own: RequestLedger, others: some Sequence<(rate: Double, requests: RequestLedger)>) {
            for request in own.outstanding.keys { self.own[request.piece, default: 0] += 1 }
            for (rate, ledger) in others where ledger.count > 0 {
                let sent = ledger.outstanding.sorted { $0.value < $1.value }
                for (position, entry) in sent.enumerated() {
                    let eta = rate > 0 ? Double(position + 1) * Double(blockSize) / rate : .infinity
                    arrivals[entry.key.piece, default: []].append(eta)
                }
            }
        }
    }
}

/// What a decode attempt's outcome means for its piece (DESIGN §5): a piece
/// decoded right is stored and whoever sent wrong symbols is banned; one that
/// could not be solved waits for one more symbol; wrong data from one sender
/// convicts it; wrong data from several starts (or goes on with) leaving
/// contributors out one at a time (PollutionDetection.swift).
extension FountainReceiver {
    enum DecodeVerdict: Equatable, Sendable {
        /// The job hashed the piece and it is right: store it, and ban each
        /// peer whose symbols disagreed with it (lowest key first).
        case store(culprits: [Culprit])
        /// The symbols in hand do not determine the piece: gather one more.
        case oneMoreSymbol
        /// Wrong data, all of it from this peer: ban it and gather again.
        case soleSenderWrong(PeerKey)
        /// Wrong data from several peers: gather until the suspect can be
        /// left out. No target means nobody is left to try: give the piece up.
        case leaveOut(RepairSymbols.Suspicion)
    }

    struct Culprit: Equatable, Sendable {
        let key: PeerKey
        let wrongSymbols: Int
    }

    /// A decode job reported for `assembly`. `helpers`: the bf_fountain peers
    /// that have the piece (who could send the symbols that replace a suspect's).
    mutating func decoded(_ outcome: SymbolDecodeJob.Outcome, assembly: PieceAssembly, helpers: [PeerKey]) -> DecodeVerdict {
        switch outcome {
        case .verified(let culprits):
            piecesDecoded += 1
            let sorted = culprits.sorted { $0.key < $1.key }.map { Culprit(key: $0.key, wrongSymbols: $0.value) }
            pollutedSymbols += sorted.reduce(0) { $0 + $1.wrongSymbols }
            return .store(culprits: sorted)
        case .pending, .undecodable:
            return .oneMoreSymbol
        case .soleSenderWrong(let key):
            return .soleSenderWrong(key)
        case .corrupt(let tested):
            var suspicion = assembly.repair.suspect ?? RepairSymbols.Suspicion()
            suspicion.tested.formUnion(tested)
            suspicion.target = Self.suspectToLeaveOut(assembly.contributions, excluding: suspicion.tested, helpers: helpers)
            return .leaveOut(suspicion)
        }
    }

    /// The contributor to leave out next: the one that sent the most (the
    /// lower key on a tie), among those not yet cleared, for which some other
    /// helper can send the symbols needed to do without it.
    static func suspectToLeaveOut(_ contributions: [PeerKey: Int], excluding tested: Set<PeerKey>,
                                  helpers: [PeerKey]) -> PeerKey? {
        var best: (key: PeerKey, count: Int)?
        for (key, count) in contributions where !tested.contains(key) && helpers.contains(where: { $0 != key }) {
            if let current = best, current.count > count || (current.count == count && current.key < key) { continue }
            best = (key, count)
        }
        return best?.key
    }
}
