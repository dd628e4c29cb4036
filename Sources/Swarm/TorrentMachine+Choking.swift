import PeerWire

/// Wiring of the choker sub-machine (Choker.swift) into the torrent machine:
/// it decides, the machine sends the messages and drops what a choke cancels.
extension TorrentMachine {
    /// What the choker sees of a peer.
    func chokerView(_ peer: PeerRecord, seeding: Bool) -> Choker.Peer {
        Choker.Peer(key: peer.key, interested: peer.peerInterested, isSeed: peer.isSeed,
                    rate: seeding ? peer.upload.bytesPerSecond : peer.download.bytesPerSecond,
                    unchoked: !peer.amChoking, optimistic: peer.isOptimistic)
    }

    /// Every `chokeInterval` (and whenever the tick finds it due).
    mutating func chokeRound(now: Double) {
        let seeding = isComplete
        let round = choker.round(now: now, peers: peers.values.map { chokerView($0, seeding: seeding) }, random: &random)
        for key in Array(peers.keys) {
            peers[key]!.isOptimistic = key == round.optimistic
            if round.unchokes(key) {
                unchoke(key)
            } else if !peers[key]!.amChoking {
                choke(key)
            }
        }
    }

    /// Between rounds, an interested peer is unchoked at once while slots are free.
    mutating func fillUnchokeSlots(now: Double) {
        let seeding = isComplete
        for key in choker.slotsToFill(peers.values.map { chokerView($0, seeding: seeding) }) { unchoke(key) }
    }

    /// It told us it is no longer interested.
    mutating func peerLostInterest(_ key: PeerKey) {
        guard let peer = peers[key], choker.chokesWhenUninterested(chokerView(peer, seeding: isComplete)) else { return }
        choke(key)
    }

    mutating func unchoke(_ key: PeerKey) {
        guard peers[key]?.amChoking == true else { return }
        peers[key]!.amChoking = false
        actions.append(.send(key, .unchoke))
    }

    /// Chokes a peer; its queued requests are dropped (and rejected, with BEP 6).
    mutating func choke(_ key: PeerKey) {
        guard let peer = peers[key], !peer.amChoking else { return }
        peers[key]!.amChoking = true
        peers[key]!.isOptimistic = false
        actions.append(.send(key, .choke))
        // Allowed-fast pieces stay served through a choke (BEP 6); the rest is dropped.
        for request in peer.serving where !peer.allowedFastToPeer.contains(request.piece) {
            actions.append(.cancelServe(key, request))
            if peer.supportsFast { actions.append(.send(key, .rejectRequest(request))) }
            peers[key]!.serving.remove(request)
        }
        for piece in fountainServer.owedPieces(to: key) where !peer.allowedFastToPeer.contains(piece) { rejectSymbols(piece, to: key) }
    }
}
