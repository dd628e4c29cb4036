import Metainfo
import NIOCore
import PeerWire
import Swarm

extension TorrentSession {
    /// Writes the verified pieces and file states to the state directory (off
    /// the loop), after the pieces' bytes are on the disk: resume data that got
    /// there first would, after a power cut, vouch for data that is not.
    /// Saves run one after another: a second save started while the first is
    /// still syncing would find nothing left to sync and could land first.
    @discardableResult
    func saveResume() -> EventLoopFuture<Void> {
        guard storage != nil, machine.have != nil else { return loop.makeSucceededVoidFuture() }
        resumeDirty = false
        lastResumeSave = SwarmNode.now()
        let previous = resumeSaving ?? loop.makeSucceededVoidFuture()
        let save = previous.flatMap { self.writeResume() }
        resumeSaving = save
        save.whenComplete { _ in
            if self.resumeSaving === save { self.resumeSaving = nil }
        }
        return save
    }

    /// One save: the files' sizes and mtimes, then the pieces stored by then,
    /// synced, then recorded. The statuses are taken first: a piece written
    /// after them changes a file's mtime, so at the next start the record no
    /// longer matches and the files are rechecked. Taken the other way round, a
    /// piece stored between the two would be on disk, missing from the record,
    /// and the record would still match: after a `kill -9` that piece was lost.
    private func writeResume() -> EventLoopFuture<Void> {
        guard let storage, machine.have != nil else { return loop.makeSucceededVoidFuture() }
        let state = node.stateDirectory
        let infoHash = self.infoHash
        let node = self.node
        let loop = self.loop
        return node.pool.runIfActive(eventLoop: loop) { storage.fileStatuses() }
            .flatMap { (files: [FileStatus?]) -> EventLoopFuture<Void> in
                // Back on the loop: the pieces stored until now, all written before this point.
                guard let have = self.machine.have else { return loop.makeSucceededVoidFuture() }
                return node.pool.runIfActive(eventLoop: loop) {
                    try storage.syncWrittenFiles()
                    try state.save(ResumeData(infoHash: infoHash, have: have, files: files, base: storage.tree.base))
                }
            }
            .recover { error in
                node.report(.warning("cannot save resume data in \(state.path): \(error)"))
            }
    }
}

extension SwarmNode {
    /// Finds out which pieces are already on disk: fast resume when the resume
    /// data still matches the files, a full parallel recheck otherwise.
    static func piecesOnDisk(_ storage: TorrentStorage, infoHash: InfoHash, state: StateDirectory) -> (Bitfield, rechecked: Bool) {
        if let resume = state.loadResume(infoHash), let trusted = resume.trustedPieces(for: storage, infoHash: infoHash) {
            return (trusted, false)
        }
        return (PieceChecker.check(storage), true)
    }
}
