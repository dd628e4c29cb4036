import NIOCore
import PeerWire

/// Which repair symbols to ask bf_fountain peers for (DESIGN §5).
///
/// Blocks stay the first choice: any peer serves them and a piece made of its
/// blocks needs no decoding. Repair symbols come in where blocks cannot do
/// the job, and then no specific block is ever waited for:
/// - *coverage*: a piece needs more symbols than it has in hand and asked for
///   (an attempt that could not be solved wants K+1, K+2; a suspect is being
///   left out; the test mode that asks for repair symbols only);
/// - *endgame*: once nothing new can start, a peer with room takes over, as
///   repair symbols of the same pieces, the work queued behind longer queues
///   at slower (or stalled) peers, instead of duplicating their blocks.
///   Whichever K symbols arrive first complete a piece, so nothing is wasted
///   but what is still in flight when it completes.
///
/// ESIs are random in [K, 2^24) and never reused within a piece, so no two
/// peers are asked for the same symbol; a peer is never asked for more of a
/// piece's repair symbols than the piece still needs, nor more than 2K + 4 in all.
extension TorrentMachine {
    /// Per `fillRequests` call: whether the peer speaks bf_fountain, the
    /// symbols chosen so far (sent as one request per piece), and the endgame
    /// view of other peers' queues, built on first use.
    struct RepairScheduler {
        let fountain: Bool
        var batch: [Int: [UInt32]] = [:]
        var queues: QueueView?

        init(fountain: Bool) { self.fountain = fountain }
    }

    /// When each request out at other peers should arrive, by piece, plus this peer's own requests.
    struct QueueView {
        var arrivals: [Int: [Double]] = [:]
        var own: [Int: Int] = [:]
    }

    func isFountainPeer(_ peer: PeerRecord) -> Bool { fountainEnabled && peer.fountainID != nil }

    /// In the endgame the adapter tops pipelines up between ticks (`refill`),
    /// so a peer whose queue ran dry takes over a stalled peer's work at once.
    public var wantsFrequentRefills: Bool { fountainEnabled && picker != nil && !isComplete && isEndgame }

    public mutating func refill(now: Double) {
        for key in peers.keys.sorted() { fillRequests(key, now: now) }
    }

    /// Seconds by which another peer's request must be expected later than ours to be hedged.
    static let hedgeMargin = 0.25

    /// Most repair symbols asked of one peer for one piece.
    static func repairCap(sourceSymbols: Int) -> Int { 2 * sourceSymbols + 4 }

    /// A repair symbol when the piece's symbols in hand and on order fall short of what it needs.
    mutating func coverageRequest(_ piece: Int, from peer: PeerRecord) -> SymbolRequest? {
        let assembly = assemblies[piece]!
        guard !peer.symbolRejectedPieces.contains(piece) else { return nil }
        var onOrder = assembly.requestedBlockCount + assembly.repair.pending.count
        if let target = assembly.repair.suspect?.target {
            guard target != peer.key else { return nil }
            onOrder -= assembly.pendingRepair(at: target)
        }
        let need = assembly.symbolsStillNeeded
        guard need > onOrder, assembly.pendingRepair(at: peer.key) < share(of: need, piece: piece, asking: peer),
              assembly.repair.askedOf[peer.key, default: 0] < Self.repairCap(sourceSymbols: assembly.sourceSymbolCount) else { return nil }
        return SymbolRequest(piece: piece, esi: assemblies[piece]!.takeRepairESI(for: peer.key, using: &random))
    }

    /// How many of the symbols a piece still needs one peer may be asked for
    /// at once: half, when another bf_fountain peer (not under suspicion) has
    /// the piece too, so no piece hangs on one peer alone and a polluter's
    /// symbols always meet others' (leave-one-out can then single it out).
    /// Should the other one not serve (it chokes us), the first peer is asked
    /// again as its symbols come in, for half of what is then still missing.
    private func share(of need: Int, piece: Int, asking peer: PeerRecord) -> Int {
        let target = assemblies[piece]?.repair.suspect?.target
        let others = peers.values.contains { other in
            other.key != peer.key && other.key != target && isFountainPeer(other)
                && other.pieces?[piece] == true && !other.symbolRejectedPieces.contains(piece)
        }
        return others ? (need + 1) / 2 : need
    }

    /// Endgame: a repair symbol of a piece whose missing symbols are queued at
    /// peers that will deliver them later than this one could.
    mutating func hedgeRequest(for peer: PeerRecord, pieces: Bitfield, allowed: (Int) -> Bool, now: Double,
                               scheduler: inout RepairScheduler) -> SymbolRequest? {
        let rate = peer.download.bytesPerSecond
        guard rate > 0, !peer.snubbed, !isStalled(peer, now: now) else { return nil }
        if scheduler.queues == nil { scheduler.queues = queueView(excluding: peer, now: now) }
        let queues = scheduler.queues!
        let arrival = Double(peer.requestsInFlight + 1) * Double(blockSize) / rate
        for piece in assemblyOrder where pieces[piece] && allowed(piece) && !peer.symbolRejectedPieces.contains(piece)
            && picker!.isWanted(piece) {
            let assembly = assemblies[piece]!
            guard assembly.phase == .collecting, assembly.repair.suspect == nil else { continue }
            let need = assembly.symbolsStillNeeded
            guard need > 0, let others = queues.arrivals[piece] else { continue }
            // Only work that would come clearly later than ours is worth doubling:
            // what a slightly slower queue still owes arrives in time anyway.
            let sooner = others.reduce(0) { $0 + ($1 <= arrival + max(Self.hedgeMargin, arrival / 2) ? 1 : 0) }
            let covered = (queues.own[piece] ?? 0) + (scheduler.batch[piece]?.count ?? 0) + sooner
            guard covered < need, sooner < others.count,
                  assembly.repair.askedOf[peer.key, default: 0] < Self.repairCap(sourceSymbols: assembly.sourceSymbolCount) else { continue }
            return SymbolRequest(piece: piece, esi: assemblies[piece]!.takeRepairESI(for: peer.key, using: &random))
        }
        return nil
    }

    /// Expected arrival of every request out at other peers: they serve in
    /// order, at their measured rate; a stalled or snubbed peer never delivers.
    private func queueView(excluding peer: PeerRecord, now: Double) -> QueueView {
        var view = QueueView()
        for request in peer.blockRequests.outstanding.keys { view.own[request.piece, default: 0] += 1 }
        for request in peer.symbolRequests.outstanding.keys { view.own[request.piece, default: 0] += 1 }
        for other in peers.values where other.key != peer.key && other.requestsInFlight > 0 {
            let rate = other.snubbed || isStalled(other, now: now) ? 0 : other.download.bytesPerSecond
            var sent: [(at: Double, piece: Int)] = []
            sent.reserveCapacity(other.requestsInFlight)
            for (request, at) in other.blockRequests.outstanding { sent.append((at, request.piece)) }
            for (request, at) in other.symbolRequests.outstanding { sent.append((at, request.piece)) }
            sent.sort { $0.at < $1.at }
            for (position, entry) in sent.enumerated() {
                let eta = rate > 0 ? Double(position + 1) * Double(blockSize) / rate : .infinity
                view.arrivals[entry.piece, default: []].append(eta)
            }
        }
        return view
    }

    /// A peer we wait on that has sent nothing for much longer than its rate
    /// explains (frozen, or its link is): its queue is not counted on. The
    /// smoothed rate alone would take many seconds to fall to zero.
    func isStalled(_ peer: PeerRecord, now: Double) -> Bool {
        guard peer.requestsInFlight > 0 else { return false }
        let rate = peer.download.bytesPerSecond
        let gap = rate > 0 ? Double(blockSize) / rate : .infinity
        return now - peer.lastBlockAt > max(Self.stallAfter, 8 * gap)
    }

    /// Silence (seconds) after which a peer with requests out counts as stalled, at the least.
    static let stallAfter = 0.5

    /// One bf_fountain request per piece (split at the message limit).
    mutating func sendSymbolRequests(_ batch: [Int: [UInt32]], to peer: PeerRecord) {
        guard !batch.isEmpty, let id = peer.fountainID else { return }
        for piece in batch.keys.sorted() {
            let esis = batch[piece]!
            for start in stride(from: 0, to: esis.count, by: BFFountain.maxESIsPerRequest) {
                let chunk = Array(esis[start..<min(esis.count, start + BFFountain.maxESIsPerRequest)])
                actions.append(.send(peer.key, .extended(id: id, payload: BFFountain.encode(.request(piece: piece, esis: chunk)))))
            }
        }
    }
}
