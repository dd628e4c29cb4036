import NIOCore
import PeerWire

/// bf_fountain messages from a peer: its requests (served in
/// TorrentMachine+FountainServing.swift), the symbols it sends us, its rejects.
extension TorrentMachine {
    mutating func receivedFountainMessage(_ payload: ByteBuffer, from key: PeerKey, now: Double) {
        let message: BFFountain.Message
        do { message = try BFFountain.decode(payload) } catch { return disconnect(key, "\(error)") }
        switch message {
        case .request(let piece, let esis):
            receivedSymbolRequest(piece: piece, esis: esis, from: key)
        case .symbol(let piece, let esi, let data):
            receivedSymbol(piece: piece, esi: esi, data: data, from: key, now: now)
        case .reject(let piece):
            receivedSymbolReject(piece: piece, from: key, now: now)
        }
    }

    /// A symbol arrived. Only symbols we asked this peer for are taken.
    private mutating func receivedSymbol(piece: Int, esi: UInt32, data: ByteBuffer, from key: PeerKey, now: Double) {
        let delivery = peers[key]!.symbolRequests.settle(SymbolRequest(piece: piece, esi: esi))
        guard accept(delivery, bytes: data.readableBytes, from: key, now: now, kind: "symbols") else { return }
        if assemblies[piece]?.receiveRepair(esi, data: data, from: key) == true {
            peers[key]!.repairSymbolsReceived += 1
            repairSymbolsReceived += 1
            checkAssembly(piece)
        } else {
            // The piece completed (or is being decoded) before this one came.
            wastedBytes += Int64(data.readableBytes)
        }
        fillRequests(key, now: now, lazily: true)
    }

    /// The peer will not send the symbols of this piece we asked for: ask others.
    private mutating func receivedSymbolReject(piece: Int, from key: PeerKey, now: Double) {
        let dropped = peers[key]!.symbolRequests.withdraw(piece: piece)
        for request in dropped { assemblies[piece]?.dropRepairRequest(request.esi) }
        if peers[key]!.symbolRejectedPieces.count < 4096 { peers[key]!.symbolRejectedPieces.insert(piece) }
        // Nothing withdrawn, nothing to hand out: rejects cost a peer ~25 bytes
        // each, and must not buy a pass over every peer's pipeline.
        guard !dropped.isEmpty else { return }
        for other in Array(peers.keys) { fillRequests(other, now: now) }
    }
}
