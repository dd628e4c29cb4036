import NIOCore
import PeerWire

/// bf_fountain messages from a peer: its requests (for the fountain server,
/// TorrentMachine+FountainServing.swift), the symbols it sends us and its
/// rejects (for the fountain receiver, FountainReceiver.swift).
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
        let delivery = peers[key]!.requests.settle(.symbol(SymbolRequest(piece: piece, esi: esi)), at: now)
        guard accept(delivery, bytes: data.readableBytes, from: key, now: now, kind: "symbols") else { return }
        if assemblies[piece]?.receiveRepair(esi, data: data, from: key) == true {
            fountainReceiver.took(symbolFrom: key)
            checkAssembly(piece)
        } else {
            // The piece completed (or is being decoded) before this one came.
            wastedBytes += Int64(data.readableBytes)
        }
        fillRequests(key, now: now, lazily: true)
    }

    /// The peer will not send the symbols of this piece we asked for: ask others.
    private mutating func receivedSymbolReject(piece: Int, from key: PeerKey, now: Double) {
        let dropped = peers[key]!.requests.withdraw(piece: piece, kind: .symbol)
        for request in dropped { release(request) }
        fountainReceiver.refused(piece: piece, by: key)
        // Nothing withdrawn, nothing to hand out: rejects cost a peer ~25 bytes
        // each, and must not buy a pass over every peer's pipeline.
        guard !dropped.isEmpty else { return }
        for other in Array(peers.keys) { fillRequests(other, now: now) }
    }

    /// bf_fountain: repair symbols received and used, pieces rebuilt from
    /// them, and wrong symbols found (their senders are banned).
    public var repairSymbolsReceived: Int { fountainReceiver.symbolsReceived }
    public var piecesDecoded: Int { fountainReceiver.piecesDecoded }
    public var pollutedSymbols: Int { fountainReceiver.pollutedSymbols }
}
