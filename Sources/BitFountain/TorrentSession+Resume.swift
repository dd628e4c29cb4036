import Metainfo
import NIOCore
import PeerWire
import Swarm

extension TorrentSession {
    /// Writes the verified pieces and file states to the state directory (off the loop).
    @discardableResult
    func saveResume() -> EventLoopFuture<Void> {
        guard let storage, let have = machine.have else { return loop.makeSucceededVoidFuture() }
        resumeDirty = false
        lastResumeSave = SwarmNode.now()
        let state = node.stateDirectory
        let infoHash = self.infoHash
        let node = self.node
        return node.pool.runIfActive(eventLoop: loop) {
            let resume = ResumeData(infoHash: infoHash, have: have, files: storage.fileStatuses(), base: storage.tree.base)
            try state.save(resume)
        }.recover { error in
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
