import PeerWire

/// When a piece has enough symbols: decoding off the event loop, and carrying
/// out what the fountain receiver makes of the result (FountainReceiver.swift):
/// store it, ask for a symbol or two more, or hunt down the peer that sent garbage.
extension TorrentMachine {
    /// Hands a piece on once it can go: every block in → hash and store;
    /// K symbols (or what a suspect search needs) including repair ones → decode.
    mutating func checkAssembly(_ piece: Int) {
        guard let assembly = assemblies[piece], assembly.phase == .collecting else { return }
        if assembly.isReadyToStore {
            finishAssembly(piece)
        } else if assembly.isReadyToDecode {
            assemblies[piece]!.phase = .decoding
            // The decode will almost surely succeed: blocks still on order are not needed.
            cancelBlockRequests(forPiece: piece)
            actions.append(.decode(assemblies[piece]!.makeDecodeJob(expectedHash: info!.pieceHashes[piece])))
        }
    }

    /// The adapter ran a job handed over with `.decode`.
    public mutating func symbolsDecoded(_ job: SymbolDecodeJob, now: Double) {
        let piece = job.piece
        guard let assembly = assemblies[piece], assembly.phase == .decoding, assembly.buffer === job.buffer else { return }
        switch fountainReceiver.decoded(job.outcome, assembly: assembly, helpers: fountainHelpers(of: piece)) {
        case .store(let culprits):
            // The job hashed the buffer it decoded into, and nothing writes to
            // a piece once it leaves the collecting phase.
            finishAssembly(piece, hashChecked: true)
            for culprit in culprits {
                let count = culprit.wrongSymbols
                ban(culprit.key, reason: "sent \(count) wrong symbol\(count == 1 ? "" : "s") for piece \(piece) (found by leave-one-out decoding)")
            }
        case .oneMoreSymbol:
            retry(piece) { $0.repair.extraNeeded += 1 }
        case .soleSenderWrong(let key):
            hashFailures += 1
            retry(piece) { _ in }
            ban(key, reason: "sent every symbol of piece \(piece), which failed the hash check")
        case .leaveOut(let suspicion):
            hashFailures += 1
            retry(piece) { $0.repair.suspect = suspicion }
            if let assembly = assemblies[piece], assembly.repair.suspect?.target == nil {
                abandon(piece, blaming: assembly)
            }
        }
        for key in Array(peers.keys) { fillRequests(key, now: now) }
    }

    /// Back to collecting after a failed attempt, within `maxDecodeRounds`.
    /// What peers banned meanwhile sent is dropped (a ban purges only pieces
    /// that are collecting, not one being decoded).
    private mutating func retry(_ piece: Int, _ change: (inout PieceAssembly) -> Void) {
        assemblies[piece]!.phase = .collecting
        assemblies[piece]!.repair.failedRounds += 1
        for key in bannedKeys where assemblies[piece]!.contributions[key] != nil { assemblies[piece]!.purge(key) }
        change(&assemblies[piece]!)
        if assemblies[piece]!.repair.failedRounds >= configuration.maxDecodeRounds {
            abandon(piece, blaming: assemblies[piece]!)
        }
    }

    /// The piece cannot be put right from what is at hand: everybody who sent
    /// part of it shares the blame (as for plain BitTorrent) and it starts over.
    private mutating func abandon(_ piece: Int, blaming assembly: PieceAssembly) {
        assemblies.removeValue(forKey: piece)
        assemblyOrder.removeAll { $0 == piece }
        cancelBlockRequests(forPiece: piece)
        releaseSymbolRequests(forPiece: piece)
        picker!.markFree(piece)
        blameHashFailure(piece, contributors: Set(assembly.contributions.keys))
    }

    /// A piece whose blocks failed the hash: with other bf_fountain peers at
    /// hand, keep it and gather repair symbols until a contributor can be left
    /// out. False when that cannot work (one contributor, or nobody to ask).
    mutating func resumeToFindCulprit(_ stored: PieceAssembly) -> Bool {
        guard fountainEnabled, stored.contributions.count > 1 else { return false }
        var assembly = stored
        assembly.phase = .collecting
        assembly.repair.failedRounds += 1
        guard let target = FountainReceiver.suspectToLeaveOut(assembly.contributions, excluding: [],
                                                              helpers: fountainHelpers(of: assembly.piece)) else { return false }
        assembly.repair.suspect = RepairSymbols.Suspicion(tested: [], target: target)
        assemblies[assembly.piece] = assembly
        assemblyOrder.append(assembly.piece)
        return true
    }

    /// The bf_fountain peers that have the piece: who can send the symbols
    /// that let a suspect's be left out.
    func fountainHelpers(of piece: Int) -> [PeerKey] {
        peers.values.filter { isFountainPeer($0) && $0.pieces?[piece] == true }.map(\.key)
    }

    /// On each tick: a piece that has what it needs goes on (a safety net: it
    /// normally goes on as its last symbol arrives), and a suspect search that
    /// nobody can help any more is given up.
    mutating func reviewFountainPieces() {
        for piece in assemblyOrder {
            guard let assembly = assemblies[piece], assembly.phase == .collecting else { continue }
            if assembly.isReadyToStore || assembly.isReadyToDecode {
                checkAssembly(piece)
                continue
            }
            guard let target = assembly.repair.suspect?.target else { continue }
            if !fountainHelpers(of: piece).contains(where: { $0 != target }) { abandon(piece, blaming: assembly) }
        }
    }

    /// Symbol requests for a piece that is complete or given up stop taking
    /// room in pipelines. They cannot be cancelled: our `have` tells the peer
    /// to drop what it still owes, and what it sent before is still accepted.
    mutating func releaseSymbolRequests(forPiece piece: Int) {
        for key in Array(peers.keys) { _ = peers[key]!.requests.abandon(piece: piece, kind: .symbol) }
    }

    /// Withdraws the block requests out for a piece (it is complete or given up).
    mutating func cancelBlockRequests(forPiece piece: Int) {
        for key in Array(peers.keys) {
            for request in peers[key]!.requests.abandon(piece: piece, kind: .block) {
                release(request)
                if let block = request.block { actions.append(.send(key, .cancel(block))) }
            }
        }
    }
}
