import NIOCore
import PeerWire

extension TorrentMachine {
    /// Tops up a peer's request pipeline to its target: blocks of pieces under
    /// way first (finish what is started), then a new piece, then endgame
    /// duplicates once every missing block has been asked for.
    ///
    /// `lazily` (after each block): wait until a quarter of the pipeline has
    /// drained, so requests leave in batches and both ends make fewer, larger writes.
    mutating func fillRequests(_ key: PeerKey, now: Double, lazily: Bool = false) {
        guard info != nil, picker != nil, !isComplete, let current = peers[key], current.amInterested else { return }
        if lazily {
            let target = current.snubbed ? 1 : current.targetQueue
            guard current.outstanding.count <= target - max(1, target / 4) else { return }
        }
        // The record is taken out while it is worked on, so its dictionaries are
        // mutated in place rather than copied (this runs for every block received).
        var peer = peers.removeValue(forKey: key)!
        defer { peers[key] = peer }
        guard let pieces = peer.pieces else { return }
        if peer.peerChoking, peer.allowedFastFromPeer.isEmpty { return }
        let target = peer.snubbed ? 1 : peer.targetQueue
        let wasIdle = peer.outstanding.isEmpty
        while peer.outstanding.count < target {
            guard let request = nextRequest(for: peer, pieces: pieces, pieceLength: info!.pieceLength, now: now) else { break }
            peer.outstanding[request] = now
            actions.append(.send(key, .request(request)))
        }
        // The request timeout counts from when we started waiting on this peer.
        if wasIdle && !peer.outstanding.isEmpty { peer.lastBlockAt = now }
    }

    private mutating func nextRequest(for peer: PeerRecord, pieces: Bitfield, pieceLength: Int, now: Double) -> BlockRequest? {
        let allowed: (Int) -> Bool = { peer.peerChoking ? peer.allowedFastFromPeer.contains($0) : true }
        for piece in assemblyOrder where pieces[piece] && allowed(piece) {
            if let index = assemblies[piece]!.takeUnrequested() {
                assemblies[piece]!.markRequested(index)
                return assemblies[piece]!.request(forBlock: index)
            }
        }
        if bytesInFlight + pieceLength <= configuration.maxBytesInFlight {
            let candidates = peer.peerChoking ? restricted(pieces, to: peer.allowedFastFromPeer) : pieces
            if let piece = picker!.pickNewPiece(from: candidates, using: &random) {
                picker!.markBusy(piece)
                var assembly = PieceAssembly(piece: piece, length: info!.layout.length(ofPiece: piece))
                let index = assembly.takeUnrequested()!
                assembly.markRequested(index)
                assemblies[piece] = assembly
                assemblyOrder.append(piece)
                return assembly.request(forBlock: index)
            }
        }
        return endgameRequest(for: peer, pieces: pieces, allowed: allowed)
    }

    /// Endgame: nothing is left unrequested, so ask this peer for blocks others
    /// are slow to deliver, at most `endgameDuplicates` requests per block.
    private mutating func endgameRequest(for peer: PeerRecord, pieces: Bitfield, allowed: (Int) -> Bool) -> BlockRequest? {
        guard picker!.have.setCount + storing.count + assemblies.count >= picker!.pieceCount else { return nil }
        for piece in assemblyOrder where pieces[piece] && allowed(piece) {
            let assembly = assemblies[piece]!
            for index in 0..<assembly.blockCount where !assembly.isReceived(index) {
                let request = assembly.request(forBlock: index)
                guard assembly.requestCount(index) < configuration.endgameDuplicates,
                      peer.outstanding[request] == nil else { continue }
                assemblies[piece]!.markRequested(index)
                return request
            }
        }
        return nil
    }

    private func restricted(_ pieces: Bitfield, to allowed: Set<Int>) -> Bitfield {
        var out = Bitfield(count: pieces.count)
        for piece in allowed where piece >= 0 && piece < pieces.count && pieces[piece] { out[piece] = true }
        return out
    }

    var bytesInFlight: Int {
        guard let info else { return 0 }
        return (assemblies.count + storing.count) * info.pieceLength
    }

    /// A request will not be answered (cancel, reject, choke, timeout, disconnect).
    mutating func dropRequest(_ request: BlockRequest) {
        guard let index = assemblies[request.piece]?.blockIndex(of: request) else { return }
        assemblies[request.piece]!.markRequestDropped(index)
    }

    mutating func dropAllRequests(_ key: PeerKey) {
        guard let outstanding = peers[key]?.outstanding, !outstanding.isEmpty else { return }
        for request in outstanding.keys {
            dropRequest(request)
            peers[key]!.lateRequests.insert(request)
        }
        peers[key]!.outstanding.removeAll(keepingCapacity: true)
    }

    /// A block arrived. Only blocks we asked this peer for are taken.
    mutating func receivedBlock(piece: Int, begin: Int, data: ByteBuffer, from key: PeerKey, now: Double) {
        let request = BlockRequest(piece: piece, begin: begin, length: data.readableBytes)
        // Mutated in place: copying the record would copy its request table, per block.
        let wasOutstanding = peers[key]!.outstanding.removeValue(forKey: request) != nil
        let wasLate = !wasOutstanding && peers[key]!.lateRequests.remove(request) != nil
        guard wasOutstanding || wasLate else {
            wastedBytes += Int64(data.readableBytes)
            // Unrequested data: tolerated in small amounts (cancels cross on the wire).
            if wastedBytes > 64 << 20 { disconnect(key, "sends blocks that were never requested") }
            return
        }
        if peers[key]!.download.total == 0 { contributingPeers.insert(peers[key]!.peerID) }
        peers[key]!.download.add(data.readableBytes)
        peers[key]!.lastBlockAt = now
        peers[key]!.snubbed = false
        downloadedPayload += Int64(data.readableBytes)
        guard let index = assemblies[piece]?.blockIndex(of: request) else {
            wastedBytes += Int64(data.readableBytes)
            fillRequests(key, now: now)
            return
        }
        if wasOutstanding { assemblies[piece]!.markRequestDropped(index) }
        let isNew = assemblies[piece]!.receive(index, data: data, from: key)
        if !isNew { wastedBytes += Int64(data.readableBytes) }
        if isNew, assemblies[piece]!.requestCount(index) > 0 { cancelDuplicates(of: request, except: key) }
        if assemblies[piece]!.isComplete { finishAssembly(piece) }
        fillRequests(key, now: now, lazily: true)
    }

    /// Endgame: the block is in, so other peers need not send it.
    private mutating func cancelDuplicates(of request: BlockRequest, except sender: PeerKey) {
        for (key, peer) in peers where key != sender && peer.outstanding[request] != nil {
            peers[key]!.outstanding.removeValue(forKey: request)
            peers[key]!.lateRequests.insert(request)
            dropRequest(request)
            actions.append(.send(key, .cancel(request)))
        }
    }

    private mutating func finishAssembly(_ piece: Int) {
        guard let assembly = assemblies.removeValue(forKey: piece) else { return }
        assemblyOrder.removeAll { $0 == piece }
        storing.insert(piece)
        pendingContributors[piece] = assembly.contributors
        actions.append(.store(assembly.buffer))
    }

    /// The adapter hashed (and, on a match, wrote) a piece handed over with `.store`.
    public mutating func pieceStored(_ piece: Int, result: StoreResult, now: Double) {
        guard storing.remove(piece) != nil else { return }
        let contributors = pendingContributors.removeValue(forKey: piece) ?? []
        switch result {
        case .written:
            picker!.markVerified(piece)
            actions.append(.pieceVerified(piece))
            for key in Array(peers.keys) {
                guard let peer = peers[key] else { continue }
                if peer.pieces?[piece] == true { peers[key]!.interestingCount -= 1 }
                actions.append(.send(key, .have(piece: piece)))
                updateInterest(key)
            }
            for key in Array(peers.keys) where peers[key]?.pieces?.isComplete == true && isComplete {
                disconnect(key, "both sides are seeds")
            }
            if isComplete { actions.append(.completed) }
        case .hashMismatch:
            hashFailures += 1
            picker!.markFree(piece)
            blameHashFailure(piece, contributors: contributors)
        case .writeFailed:
            // The adapter reports the error and stops; the piece stays missing for a resume.
            picker!.markFree(piece)
        }
        for key in Array(peers.keys) { fillRequests(key, now: now) }
    }

    /// One sender alone is surely guilty; several share the suspicion.
    private mutating func blameHashFailure(_ piece: Int, contributors: Set<PeerKey>) {
        for key in contributors where peers[key] != nil {
            if contributors.count == 1 {
                peers[key]!.soleHashFailures += 1
            } else {
                peers[key]!.sharedHashFailures += 1
            }
            let peer = peers[key]!
            if peer.soleHashFailures >= configuration.banAfterSoleFailures
                || peer.soleHashFailures + peer.sharedHashFailures >= configuration.banAfterSharedFailures {
                ban(key, reason: "sent data for \(peer.soleHashFailures + peer.sharedHashFailures) pieces that failed the hash check")
            }
        }
    }

    /// Requests older than `requestTimeout` with nothing delivered meanwhile:
    /// the peer is snubbed and its blocks are offered to others.
    mutating func checkRequestTimeouts(_ key: PeerKey, now: Double) {
        guard let peer = peers[key], !peer.outstanding.isEmpty,
              now - peer.lastBlockAt > configuration.requestTimeout else { return }
        peers[key]!.snubbed = true
        dropAllRequests(key)
        peers[key]!.lastBlockAt = now
    }

    /// Sizes the pipeline to the measured rate: `requestQueueSeconds` worth of blocks.
    func updateQueueTarget(_ peer: inout PeerRecord) {
        let byRate = Int(peer.download.bytesPerSecond * configuration.requestQueueSeconds) / blockSize
        let ceiling = min(configuration.maxRequestQueue, peer.extensions?.requestQueueLength ?? 250)
        let floor = min(configuration.minRequestQueue, ceiling)
        peer.targetQueue = max(floor, min(ceiling, max(byRate, peer.download.bytesPerSecond == 0 ? configuration.initialRequestQueue : 0)))
    }
}
