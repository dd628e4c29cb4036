import PeerWire

/// File priorities (skip / normal / high) as the piece picker's mask: what is
/// wanted, what first, and when the download counts as done.
extension TorrentMachine {
    /// Sets one class per file (0 skip, 1 normal, 2 high); takes effect at
    /// once. Pieces under way that are no longer wanted are given up (their
    /// requests cancelled); interest is recomputed for every peer; a download
    /// whose wanted pieces are all verified completes, and un-skipping a file
    /// of a finished one starts downloading again.
    public mutating func setFilePriorities(_ priorities: [UInt8], now: Double) {
        filePriorities = priorities
        guard let info, picker != nil, priorities.count == info.files.count else { return }
        let wasComplete = isComplete
        picker!.setPriorities(PiecePriorities.pieces(of: info.layout, filePriorities: priorities))
        for piece in assemblyOrder where !picker!.isWanted(piece) && assemblies[piece]?.phase == .collecting {
            giveUpUnwanted(piece)
        }
        for key in Array(peers.keys) {
            guard let pieces = peers[key]?.pieces else { continue }
            peers[key]!.interestingCount = interestingCount(pieces)
            updateInterest(key)
        }
        if isComplete, !wasComplete { actions.append(.completed) }
        for key in Array(peers.keys) { fillRequests(key, now: now) }
    }

    /// How many pieces of `pieces` we want and lack.
    func interestingCount(_ pieces: Bitfield) -> Int {
        guard let picker, !picker.isComplete else { return 0 }
        var count = 0
        for piece in pieces.setIndices where !picker.have[piece] && picker.isWanted(piece) { count += 1 }
        return count
    }

    /// A piece being collected is not wanted any more: what came of it is
    /// dropped and its requests withdrawn (blocks cancelled; symbols, which
    /// cannot be, are still taken if they come, as waste).
    private mutating func giveUpUnwanted(_ piece: Int) {
        assemblies.removeValue(forKey: piece)
        assemblyOrder.removeAll { $0 == piece }
        cancelBlockRequests(forPiece: piece)
        releaseSymbolRequests(forPiece: piece)
        picker!.markFree(piece)
    }

    /// Bytes of the files not skipped, and how many of them are verified
    /// (what "progress" and "left until done" are measured against).
    public var wantedBytes: (wanted: Int64, done: Int64) {
        guard let info, let have = picker?.have else { return (Int64(info?.totalLength ?? 0), 0) }
        // Nothing skipped: the whole torrent, the cheap way (no pass over the pieces).
        guard let filePriorities, filePriorities.count == info.files.count, filePriorities.contains(PiecePriorities.skip) else {
            return (info.totalLength, verifiedBytes)
        }
        return PiecePriorities.wantedBytes(of: info.layout, filePriorities: filePriorities, have: have)
    }
}
