import NIOCore
import PeerWire

/// Asking bf_fountain peers for repair symbols: the fountain receiver decides
/// when a peer should be asked (FountainReceiver.swift: coverage and endgame
/// hedging); this side walks the pieces under way, takes the ESIs and sends
/// the requests.
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
        var queues: FountainReceiver.QueueView?

        init(fountain: Bool) { self.fountain = fountain }
    }

    func isFountainPeer(_ peer: PeerRecord) -> Bool { fountainEnabled && peer.fountainID != nil }

    /// In the endgame the adapter tops pipelines up between ticks (`refill`),
    /// so a peer whose queue ran dry takes over a stalled peer's work at once.
    public var wantsFrequentRefills: Bool { fountainEnabled && picker != nil && !isComplete && isEndgame }

    public mutating func refill(now: Double) {
        for key in peers.keys.sorted() { fillRequests(key, now: now) }
    }

    /// A repair symbol when the piece's symbols in hand and on order fall short of what it needs.
    mutating func coverageRequest(_ piece: Int, from peer: PeerRecord) -> SymbolRequest? {
        let wanted = fountainReceiver.wantsCoverage(assemblies[piece]!, from: peer.key) {
            let target = assemblies[piece]!.repair.suspect?.target
            return peers.values.contains { other in
                other.key != peer.key && other.key != target && isFountainPeer(other)
                    && other.pieces?[piece] == true && !fountainReceiver.hasRefused(piece: piece, by: other.key)
            }
        }
        guard wanted else { return nil }
        return SymbolRequest(piece: piece, esi: assemblies[piece]!.takeRepairESI(for: peer.key, using: &random))
    }

    /// Endgame: a repair symbol of a piece whose missing symbols are queued at
    /// peers that will deliver them later than this one could.
    mutating func hedgeRequest(for peer: PeerRecord, pieces: Bitfield, allowed: (Int) -> Bool, now: Double,
                               scheduler: inout RepairScheduler) -> SymbolRequest? {
        let rate = peer.download.bytesPerSecond
        guard rate > 0, !peer.snubbed, !peer.requests.isStalled(now: now, rate: rate) else { return nil }
        if scheduler.queues == nil {
            let others = peers.values.lazy.filter { $0.key != peer.key }.map { other in
                (rate: other.snubbed || other.requests.isStalled(now: now, rate: other.download.bytesPerSecond)
                    ? 0 : other.download.bytesPerSecond, requests: other.requests)
            }
            scheduler.queues = FountainReceiver.QueueView(own: peer.requests, others: others)
        }
        let arrival = Double(peer.requestsInFlight + 1) * Double(blockSize) / rate
        for piece in assemblyOrder where pieces[piece] && allowed(piece) && picker!.isWanted(piece) {
            guard fountainReceiver.wantsHedge(assemblies[piece]!, from: peer.key, arrival: arrival, queues: scheduler.queues!,
                                              batched: scheduler.batch[piece]?.count ?? 0) else { continue }
            return SymbolRequest(piece: piece, esi: assemblies[piece]!.takeRepairESI(for: peer.key, using: &random))
        }
        return nil
    }

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
