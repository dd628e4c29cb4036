import NIOCore
import PeerWire

extension TorrentMachine {
    /// Tops up a peer's request pipeline to its target: blocks of pieces under
    /// way first (finish what is started), then a new piece, then endgame
    /// duplicates once every missing block has been asked for. A bf_fountain
    /// peer is asked for repair symbols where blocks will not do
    /// (TorrentMachine+RepairScheduling.swift).
    ///
    /// `lazily` (after each block): wait until a quarter of the pipeline has
    /// drained, so requests leave in batches and both ends make fewer, larger writes.
    mutating func fillRequests(_ key: PeerKey, now: Double, lazily: Bool = false) {
        guard info != nil, picker != nil, !isComplete, let current = peers[key], current.amInterested else { return }
        if lazily {
            let target = current.snubbed ? 1 : current.targetQueue
            guard current.requestsInFlight <= target - max(1, target / 4) else { return }
        }
        // The record is taken out while it is worked on, so its dictionaries are
        // mutated in place rather than copied (this runs for every block received).
        var peer = peers.removeValue(forKey: key)!
        defer { peers[key] = peer }
        guard let pieces = peer.pieces else { return }
        if peer.peerChoking, peer.allowedFastFromPeer.isEmpty { return }
        let target = peer.snubbed ? 1 : peer.targetQueue
        var scheduler = RepairScheduler(fountain: isFountainPeer(peer))
        while peer.requestsInFlight < target {
            // The download limits meter requests as they are issued, so blocks and
            // symbols over TCP and uTP alike arrive no faster than allowed.
            if let allowance = downloadAllowance, allowance <= 0 {
                requestsHeldBack = true
                break
            }
            guard let next = nextRequest(for: peer, pieces: pieces, pieceLength: info!.pieceLength, now: now, scheduler: &scheduler) else { break }
            switch next {
            case .block(let request):
                peer.requests.record(.block(request), sentAt: now)
                actions.append(.send(key, .request(request)))
                downloadAllowance? -= request.length
            case .symbol(let request):
                peer.requests.record(.symbol(request), sentAt: now)
                scheduler.batch[request.piece, default: []].append(request.esi)
                downloadAllowance? -= blockSize
            }
        }
        sendSymbolRequests(scheduler.batch, to: peer)
    }

    private mutating func nextRequest(for peer: PeerRecord, pieces: Bitfield, pieceLength: Int, now: Double,
                                      scheduler: inout RepairScheduler) -> NextRequest? {
        let allowed: (Int) -> Bool = { peer.peerChoking ? peer.allowedFastFromPeer.contains($0) : true }
        let blocksWanted = !(scheduler.fountain && configuration.repairSymbolsOnly)
        for piece in assemblyOrder where pieces[piece] && allowed(piece) && assemblies[piece]!.phase == .collecting
            && picker!.isWanted(piece) {
            if blocksWanted, assemblies[piece]!.repair.suspect == nil, let index = assemblies[piece]!.takeUnrequested() {
                assemblies[piece]!.markRequested(index)
                return .block(assemblies[piece]!.request(forBlock: index))
            }
            if scheduler.fountain, let request = coverageRequest(piece, from: peer) { return .symbol(request) }
        }
        if bytesInFlight + pieceLength <= configuration.maxBytesInFlight {
            let candidates = peer.peerChoking ? restricted(pieces, to: peer.allowedFastFromPeer) : pieces
            if let piece = picker!.pickNewPiece(from: candidates, using: &random) {
                picker!.markBusy(piece)
                assemblies[piece] = PieceAssembly(piece: piece, length: info!.layout.length(ofPiece: piece))
                assemblyOrder.append(piece)
                if !blocksWanted, let request = coverageRequest(piece, from: peer) { return .symbol(request) }
                let index = assemblies[piece]!.takeUnrequested()!
                assemblies[piece]!.markRequested(index)
                return .block(assemblies[piece]!.request(forBlock: index))
            }
        }
        guard isEndgame else { return nil }
        if scheduler.fountain {
            return hedgeRequest(for: peer, pieces: pieces, allowed: allowed, now: now, scheduler: &scheduler).map { .symbol($0) }
        }
        return endgameRequest(for: peer, pieces: pieces, allowed: allowed).map { .block($0) }
    }

    /// Every piece is verified, being stored or under way: nothing new can start.
    var isEndgame: Bool { picker!.nothingToStart }

    /// Endgame: nothing is left unrequested, so ask this peer for blocks others
    /// are slow to deliver, at most `endgameDuplicates` requests per block.
    private mutating func endgameRequest(for peer: PeerRecord, pieces: Bitfield, allowed: (Int) -> Bool) -> BlockRequest? {
        for piece in assemblyOrder where pieces[piece] && allowed(piece) && assemblies[piece]!.phase == .collecting
            && picker!.isWanted(piece) {
            let assembly = assemblies[piece]!
            for index in 0..<assembly.blockCount where !assembly.isReceived(index) {
                let request = assembly.request(forBlock: index)
                guard assembly.requestCount(index) < configuration.endgameDuplicates,
                      !peer.requests.contains(.block(request)) else { continue }
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

    /// What to ask a peer for next.
    enum NextRequest {
        case block(BlockRequest)
        case symbol(SymbolRequest)
    }

    /// A request will not be answered (cancel, reject, choke, timeout,
    /// disconnect): its piece may ask someone else for the block, or for
    /// another symbol in place of this one.
    mutating func release(_ request: PieceRequest) {
        switch request {
        case .block(let block): dropRequest(block)
        case .symbol(let symbol): assemblies[symbol.piece]?.dropRepairRequest(symbol.esi)
        }
    }

    mutating func dropRequest(_ request: BlockRequest) {
        guard let index = assemblies[request.piece]?.blockIndex(of: request) else { return }
        assemblies[request.piece]!.markRequestDropped(index)
    }

    mutating func dropAllRequests(_ key: PeerKey) {
        guard let peer = peers[key], peer.requestsInFlight > 0 else { return }
        for request in peers[key]!.requests.abandonAll() { release(request) }
    }

    /// A peer delivered something we asked for (a block or a symbol): its rate,
    /// its standing (not snubbed) and the download's totals (its ledger has
    /// restarted its timeout clock).
    mutating func credit(_ key: PeerKey, bytes: Int, now: Double) {
        if firstPayloadAt == nil { firstPayloadAt = now }
        if peers[key]!.download.total == 0 { contributingPeers.insert(peers[key]!.peerID) }
        peers[key]!.download.add(bytes)
        peers[key]!.snubbed = false
        downloadedPayload += Int64(bytes)
    }

    /// Bytes of blocks and symbols a peer may send us unasked before it is dropped.
    static let unrequestedLimit = 64 << 20

    /// The bookkeeping shared by blocks and symbols when one arrives: taken
    /// (and credited to the peer) if we asked for it, even if we had given up
    /// on it; otherwise wasted, tolerated in small amounts (cancels cross on
    /// the wire) and counted against this peer alone.
    mutating func accept(_ delivery: RequestLedger.Delivery, bytes: Int, from key: PeerKey, now: Double, kind: String) -> Bool {
        guard delivery == .unrequested else {
            credit(key, bytes: bytes, now: now)
            return true
        }
        wastedBytes += Int64(bytes)
        peers[key]!.unrequestedBytes += bytes
        if peers[key]!.unrequestedBytes > Self.unrequestedLimit { disconnect(key, "sends \(kind) that were never requested") }
        return false
    }

    /// A block arrived. Only blocks we asked this peer for are taken.
    mutating func receivedBlock(piece: Int, begin: Int, data: ByteBuffer, from key: PeerKey, now: Double) {
        let request = BlockRequest(piece: piece, begin: begin, length: data.readableBytes)
        // Mutated in place: copying the record would copy its request table, per block.
        let delivery = peers[key]!.requests.settle(.block(request), at: now)
        guard accept(delivery, bytes: data.readableBytes, from: key, now: now, kind: "blocks") else { return }
        guard let index = assemblies[piece]?.blockIndex(of: request) else {
            wastedBytes += Int64(data.readableBytes)
            fillRequests(key, now: now)
            return
        }
        if delivery == .answered { assemblies[piece]!.markRequestDropped(index) }
        // A piece being decoded is not written to; the block came too late to matter.
        let isNew = assemblies[piece]!.phase == .collecting && assemblies[piece]!.receive(index, data: data, from: key)
        if !isNew { wastedBytes += Int64(data.readableBytes) }
        if isNew, assemblies[piece]!.requestCount(index) > 0 { cancelDuplicates(of: request, except: key) }
        if isNew { checkAssembly(piece) }
        fillRequests(key, now: now, lazily: true)
    }

    /// Endgame: the block is in, so other peers need not send it.
    private mutating func cancelDuplicates(of request: BlockRequest, except sender: PeerKey) {
        for (key, peer) in peers where key != sender && peer.requests.contains(.block(request)) {
            peers[key]!.requests.abandon(.block(request))
            dropRequest(request)
            actions.append(.send(key, .cancel(request)))
        }
    }

    /// Hands a piece over for hashing and writing; it is kept, untouched, until the adapter reports.
    mutating func finishAssembly(_ piece: Int, hashChecked: Bool = false) {
        guard var assembly = assemblies.removeValue(forKey: piece) else { return }
        assemblyOrder.removeAll { $0 == piece }
        storing.insert(piece)
        assembly.phase = .storing
        finishing[piece] = assembly
        actions.append(hashChecked ? .write(assembly.buffer) : .store(assembly.buffer))
        releaseSymbolRequests(forPiece: piece)
    }

    /// The adapter hashed (and, on a match, wrote) a piece handed over with `.store`.
    public mutating func pieceStored(_ piece: Int, result: StoreResult, now: Double) {
        guard storing.remove(piece) != nil else { return }
        let assembly = finishing.removeValue(forKey: piece)
        let contributors = Set(assembly.map { Array($0.contributions.keys) } ?? [])
        switch result {
        case .written:
            picker!.markVerified(piece)
            actions.append(.pieceVerified(piece))
            for key in Array(peers.keys) {
                guard let peer = peers[key] else { continue }
                if peer.pieces?[piece] == true, picker!.isWanted(piece) { peers[key]!.interestingCount -= 1 }
                actions.append(.send(key, .have(piece: piece)))
                updateInterest(key)
            }
            for key in Array(peers.keys) where peers[key]?.pieces?.isComplete == true && isComplete {
                disconnect(key, "both sides are seeds")
            }
            if isComplete { actions.append(.completed) }
        case .hashMismatch:
            hashFailures += 1
            // With repair symbols from others, the culprit can be singled out (PollutionDetection.swift).
            if let assembly, resumeToFindCulprit(assembly) { break }
            picker!.markFree(piece)
            blameHashFailure(piece, contributors: contributors)
        case .writeFailed:
            // The adapter reports the error and stops; the piece stays missing for a resume.
            picker!.markFree(piece)
        }
        for key in Array(peers.keys) { fillRequests(key, now: now) }
    }

    /// One sender alone is surely guilty; several share the suspicion.
    mutating func blameHashFailure(_ piece: Int, contributors: Set<PeerKey>) {
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
        guard peers[key]?.requests.isTimedOut(now: now, after: configuration.requestTimeout) == true else { return }
        peers[key]!.snubbed = true
        // The clock restarts with the next request: an empty pipeline cannot time out.
        dropAllRequests(key)
    }

    /// Late requests of pieces verified since can only bring waste: past a
    /// pipeline's worth they are forgotten.
    mutating func forgetSettledLateRequests(_ key: PeerKey) {
        guard let have = picker?.have else { return }
        peers[key]!.requests.forgetLate(beyond: configuration.maxRequestQueue) { have[$0] }
    }

    /// Sizes the pipeline to the measured rate: `requestQueueSeconds` worth of blocks.
    func updateQueueTarget(_ peer: inout PeerRecord) {
        let byRate = Int(peer.download.bytesPerSecond * configuration.requestQueueSeconds) / blockSize
        let ceiling = min(configuration.maxRequestQueue, peer.extensions?.requestQueueLength ?? 250)
        let floor = min(configuration.minRequestQueue, ceiling)
        peer.targetQueue = max(floor, min(ceiling, max(byRate, peer.download.bytesPerSecond == 0 ? configuration.initialRequestQueue : 0)))
    }
}
