import NIOCore
import PeerWire

/// Wiring of the fountain server sub-machine (FountainServer.swift) into the
/// torrent machine: the machine checks what only it knows (the piece exists
/// and is verified: a partial seeder never re-encodes unverified data; the
/// peer is unchoked or the piece allowed-fast), the server decides, and the
/// machine sends. The encoding itself is the adapter's work (`.serveSymbols`).
extension TorrentMachine {
    mutating func receivedSymbolRequest(piece: Int, esis: [UInt32], from key: PeerKey) {
        guard fountainEnabled, let remoteID = peers[key]?.fountainID else { return }
        guard let info, let have = picker?.have else { return rejectSymbols(piece, to: key) }
        guard piece < info.pieceCount else {
            return disconnect(key, "bf_fountain request for piece \(piece) of \(info.pieceCount)")
        }
        let peer = peers[key]!
        let servable = have[piece] && (!peer.amChoking || peer.allowedFastToPeer.contains(piece))
        switch fountainServer.request(piece: piece, esis: esis, from: key, servable: servable, blocksQueued: peer.serving.count) {
        case .serve(let fresh):
            actions.append(.serveSymbols(key, SymbolServe(piece: piece, esis: fresh, extensionID: remoteID)))
        case .reject:
            rejectSymbols(piece, to: key)
        case .alreadyOwed:
            break
        }
    }

    /// Refuses the piece's symbols: those still owed are dropped too, as the reject says.
    mutating func rejectSymbols(_ piece: Int, to key: PeerKey) {
        dropOwedSymbols(piece, to: key)
        guard let id = peers[key]?.fountainID else { return }
        actions.append(.send(key, .extended(id: id, payload: BFFountain.encode(.reject(piece: piece)))))
    }

    /// Forgets the symbols of a piece owed to a peer (it has the piece now, or we choked it).
    mutating func dropOwedSymbols(_ piece: Int, to key: PeerKey) {
        guard fountainServer.drop(piece: piece, to: key) else { return }
        actions.append(.cancelSymbols(key, piece: piece))
    }

    /// The adapter could not encode symbols of a piece it owes (the piece could
    /// not be read): the peer is told to ask elsewhere, and the symbols stop
    /// holding room in its queue (else they would be owed forever, and a
    /// repeat of the request filtered out as already owed).
    public mutating func symbolsUnavailable(piece: Int, to key: PeerKey) {
        guard peers[key] != nil, fountainServer.owes(piece: piece, to: key) else { return }
        rejectSymbols(piece, to: key)
    }

    /// The adapter wrote a symbol to the socket.
    public mutating func uploadedSymbol(piece: Int, esi: UInt32, to key: PeerKey) {
        guard peers[key] != nil, fountainServer.sent(piece: piece, esi: esi, to: key) else { return }
        peers[key]!.upload.add(BFFountain.symbolSize)
        uploadedPayload += Int64(BFFountain.symbolSize)
    }

    /// Whether we still owe a peer the symbol (not dropped by a `have`, a choke or a reject since).
    public func isServingSymbol(piece: Int, esi: UInt32, to key: PeerKey) -> Bool {
        fountainServer.isOwed(piece: piece, esi: esi, to: key)
    }

    /// bf_fountain symbols written to peers.
    public var symbolsUploaded: Int { fountainServer.symbolsSent }
}
