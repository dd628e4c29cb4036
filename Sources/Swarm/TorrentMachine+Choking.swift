import PeerWire

extension TorrentMachine {
    /// Every `chokeInterval`: the interested peers with the best rates get the
    /// regular slots (download rate from them while we leech — reciprocation —
    /// upload rate to them once we seed), and every `optimisticUnchokeInterval`
    /// one more choked peer is unchoked at random so newcomers get a chance.
    mutating func chokeRound(now: Double) {
        lastChokeRound = now
        let seeding = isComplete
        let candidates = peers.values.filter { $0.peerInterested && !$0.isSeed }
        let ranked = candidates.sorted { a, b in
            let rateA = seeding ? a.upload.bytesPerSecond : a.download.bytesPerSecond
            let rateB = seeding ? b.upload.bytesPerSecond : b.download.bytesPerSecond
            return rateA != rateB ? rateA > rateB : a.key < b.key
        }
        let regular = Set(ranked.prefix(configuration.regularUnchokeSlots).map(\.key))

        var optimistic = peers.values.first { $0.isOptimistic && !regular.contains($0.key) && $0.peerInterested }?.key
        if optimistic == nil || now - lastOptimisticRound >= configuration.optimisticUnchokeInterval {
            let choked = ranked.filter { !regular.contains($0.key) && $0.key != optimistic }
            if !choked.isEmpty {
                optimistic = choked[Int.random(in: 0..<choked.count, using: &random)].key
                lastOptimisticRound = now
            }
        }
        for key in Array(peers.keys) {
            peers[key]!.isOptimistic = key == optimistic
            if regular.contains(key) || key == optimistic {
                unchoke(key)
            } else if !peers[key]!.amChoking {
                choke(key)
            }
        }
    }

    /// Between rounds, an interested peer is unchoked at once while slots are free.
    mutating func fillUnchokeSlots(now: Double) {
        var unchoked = peers.values.filter { !$0.amChoking && !$0.isOptimistic }.count
        guard unchoked < configuration.regularUnchokeSlots else { return }
        for key in peers.keys.sorted() where peers[key]!.amChoking && peers[key]!.peerInterested {
            unchoke(key)
            unchoked += 1
            if unchoked >= configuration.regularUnchokeSlots { break }
        }
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
        for piece in peer.servingSymbols.keys where !peer.allowedFastToPeer.contains(piece) { rejectSymbols(piece, to: key) }
    }
}
