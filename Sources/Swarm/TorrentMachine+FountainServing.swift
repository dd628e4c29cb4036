import NIOCore
import PeerWire

/// Serving bf_fountain symbols: only of pieces we have verified (a partial
/// seeder never re-encodes unverified data), only to peers we do not choke
/// (or for their allowed-fast pieces), within the same per-peer queue bound
/// as blocks. The encoding itself is the adapter's work (`.serveSymbols`).
extension TorrentMachine {
    mutating func receivedSymbolRequest(piece: Int, esis: [UInt32], from key: PeerKey) {
        guard fountainEnabled, let remoteID = peers[key]?.fountainID else { return }
        guard let info, let have = picker?.have else { return rejectSymbols(piece, to: key) }
        guard piece < info.pieceCount else {
            return disconnect(key, "bf_fountain request for piece \(piece) of \(info.pieceCount)")
        }
        let peer = peers[key]!
        guard have[piece], !peer.amChoking || peer.allowedFastToPeer.contains(piece) else {
            return rejectSymbols(piece, to: key)
        }
        var owed = peer.servingSymbols[piece] ?? []
        let fresh = esis.filter { owed.insert($0).inserted }
        guard !fresh.isEmpty else { return }
        guard peer.serving.count + peer.servingSymbolCount + fresh.count <= configuration.servedRequestQueue else {
            return rejectSymbols(piece, to: key)
        }
        peers[key]!.servingSymbols[piece] = owed
        peers[key]!.servingSymbolCount += fresh.count
        actions.append(.serveSymbols(key, SymbolServe(piece: piece, esis: fresh, extensionID: remoteID)))
    }

    /// Refuses the piece's symbols: those still owed are dropped too, as the reject says.
    mutating func rejectSymbols(_ piece: Int, to key: PeerKey) {
        dropOwedSymbols(piece, to: key)
        guard let id = peers[key]?.fountainID else { return }
        actions.append(.send(key, .extended(id: id, payload: BFFountain.encode(.reject(piece: piece)))))
    }

    /// Forgets the symbols of a piece owed to a peer (it has the piece now, or we choked it).
    mutating func dropOwedSymbols(_ piece: Int, to key: PeerKey) {
        guard let owed = peers[key]?.servingSymbols.removeValue(forKey: piece) else { return }
        peers[key]!.servingSymbolCount -= owed.count
        actions.append(.cancelSymbols(key, piece: piece))
    }

    /// The adapter could not encode symbols of a piece it owes (the piece could
    /// not be read): the peer is told to ask elsewhere, and the symbols stop
    /// holding room in its queue (else they would be owed forever, and a
    /// repeat of the request filtered out as already owed).
    public mutating func symbolsUnavailable(piece: Int, to key: PeerKey) {
        guard peers[key]?.servingSymbols[piece] != nil else { return }
        rejectSymbols(piece, to: key)
    }

    /// The adapter wrote a symbol to the socket.
    public mutating func uploadedSymbol(piece: Int, esi: UInt32, to key: PeerKey) {
        guard peers[key]?.servingSymbols[piece]?.remove(esi) != nil else { return }
        peers[key]!.servingSymbolCount -= 1
        if peers[key]!.servingSymbols[piece]!.isEmpty { peers[key]!.servingSymbols.removeValue(forKey: piece) }
        peers[key]!.upload.add(BFFountain.symbolSize)
        uploadedPayload += Int64(BFFountain.symbolSize)
        symbolsUploaded += 1
    }
}

extension PeerRecord {
    /// Whether we still owe this peer the symbol (not cancelled, not choked since).
    public func isServingSymbol(piece: Int, esi: UInt32) -> Bool { servingSymbols[piece]?.contains(esi) == true }
}
