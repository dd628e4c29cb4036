import NIOCore
import PeerWire

/// The bf_fountain side of a piece being assembled: the repair symbols asked
/// for and received, and what is known about who may have sent garbage.
///
/// Source symbols are the piece's blocks and live in the piece buffer
/// (`PieceAssembly`); repair symbols (ESI ≥ K) are kept here, T bytes each, in
/// one array that a decode job reads as it is (copy-on-write keeps it safe
/// while the machine goes on).
struct RepairSymbols: Sendable {
    typealias PeerKey = PieceAssembly.PeerKey

    /// Received repair symbols, in arrival order: ESI, sender, and T bytes each in `bytes`.
    var esis: [UInt32] = []
    var senders: [PeerKey] = []
    var bytes: [UInt8] = []
    /// Requests out: ESI → the peer asked.
    var pending: [UInt32: PeerKey] = [:]
    var pendingBy: [PeerKey: Int] = [:]
    /// Every ESI ever asked for in this piece: no ESI is asked twice, so two
    /// answers are never the same symbol.
    var used: Set<UInt32> = []
    /// Repair symbols asked of each peer so far (the per-peer cap).
    var askedOf: [PeerKey: Int] = [:]
    /// Symbols wanted beyond K because the last attempt could not be solved.
    var extraNeeded = 0
    /// Decode attempts that failed (undecodable or wrong data).
    var failedRounds = 0
    /// Set after a hash failure with several contributors: the peers already
    /// left out in vain, and the one to leave out next.
    var suspect: Suspicion?

    struct Suspicion: Sendable, Equatable {
        var tested: Set<PeerKey> = []
        /// Symbols are gathered from everyone else until this peer can be left out.
        var target: PeerKey?
    }
}

extension PieceAssembly {
    /// K: source symbols of the piece, one per block.
    var sourceSymbolCount: Int { blockCount }

    /// Distinct symbols in hand, source and repair.
    var symbolCount: Int { receivedCount + repair.esis.count }

    /// Symbols (source or repair) each peer contributed.
    var contributions: [PeerKey: Int] {
        var counts: [PeerKey: Int] = [:]
        for sender in senders { if let sender { counts[sender, default: 0] += 1 } }
        for sender in repair.senders { counts[sender, default: 0] += 1 }
        return counts
    }

    /// How many more symbols the piece needs before the next attempt: K (plus
    /// extras after an unsolvable attempt), or, while a suspect is being left
    /// out, K + 1 from everybody else.
    var symbolsStillNeeded: Int {
        if let target = repair.suspect?.target {
            let others = symbolCount - (contributions[target] ?? 0)
            return max(0, sourceSymbolCount + 1 - others)
        }
        return max(0, sourceSymbolCount + repair.extraNeeded - symbolCount)
    }

    /// All source blocks are in and nothing is suspect: hash and store as is.
    var isReadyToStore: Bool { phase == .collecting && isComplete && repair.suspect == nil }

    /// Enough symbols, some of them repair symbols (or a suspect to leave out): decode.
    var isReadyToDecode: Bool {
        guard phase == .collecting, symbolsStillNeeded == 0 else { return false }
        return !repair.esis.isEmpty || repair.suspect != nil
    }

    /// Repair requests out to this peer for this piece.
    func pendingRepair(at peer: PeerKey) -> Int { repair.pendingBy[peer] ?? 0 }

    /// A fresh ESI in [K, 2^24), never used in this piece.
    mutating func takeRepairESI<R: RandomNumberGenerator>(for peer: PeerKey, using random: inout R) -> UInt32 {
        let low = UInt32(sourceSymbolCount)
        var esi = UInt32.random(in: low..<BFFountain.esiLimit, using: &random)
        while repair.used.contains(esi) { esi = UInt32.random(in: low..<BFFountain.esiLimit, using: &random) }
        repair.used.insert(esi)
        repair.pending[esi] = peer
        repair.pendingBy[peer, default: 0] += 1
        repair.askedOf[peer, default: 0] += 1
        return esi
    }

    /// A repair request will not be answered (or was answered): it no longer covers the piece.
    mutating func dropRepairRequest(_ esi: UInt32) {
        guard let peer = repair.pending.removeValue(forKey: esi) else { return }
        repair.pendingBy[peer]! -= 1
        if repair.pendingBy[peer] == 0 { repair.pendingBy.removeValue(forKey: peer) }
    }

    /// Keeps a copy of a repair symbol. False when it is not one we can use.
    mutating func receiveRepair(_ esi: UInt32, data: ByteBuffer, from peer: PeerKey) -> Bool {
        dropRepairRequest(esi)
        guard phase == .collecting, esi >= UInt32(sourceSymbolCount), data.readableBytes == BFFountain.symbolSize,
              !repair.esis.contains(esi) else { return false }
        repair.esis.append(esi)
        repair.senders.append(peer)
        repair.bytes.append(contentsOf: data.readableBytesView)
        return true
    }

    /// Forgets everything a peer sent (it was banned for sending garbage); the
    /// piece will ask others for what is missing.
    mutating func purge(_ peer: PeerKey) {
        for index in 0..<blockCount where senders[index] == peer { unreceive(index) }
        guard repair.senders.contains(peer) else { return }
        // Only the received symbols change; the rest of the bookkeeping stays as it is.
        let size = BFFountain.symbolSize
        var esis: [UInt32] = [], keptSenders: [PeerKey] = [], bytes: [UInt8] = []
        for (offset, sender) in repair.senders.enumerated() where sender != peer {
            esis.append(repair.esis[offset])
            keptSenders.append(sender)
            bytes.append(contentsOf: repair.bytes[(offset * size)..<((offset + 1) * size)])
        }
        (repair.esis, repair.senders, repair.bytes) = (esis, keptSenders, bytes)
    }

    /// The decode job for the symbols in hand; the buffer belongs to the job until it reports.
    func makeDecodeJob(expectedHash: [UInt8]) -> SymbolDecodeJob {
        var order = contributions.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        if let target = repair.suspect?.target, let index = order.firstIndex(of: target) {
            order.remove(at: index)
            order.insert(target, at: 0)
        }
        order.removeAll { repair.suspect?.tested.contains($0) == true && $0 != repair.suspect?.target }
        return SymbolDecodeJob(piece: piece, buffer: buffer, expectedHash: expectedHash, sourceSenders: senders,
                               repairESIs: repair.esis, repairSenders: repair.senders, repairBytes: repair.bytes,
                               suspects: order)
    }
}
