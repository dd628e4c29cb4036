import Foundation
import Metainfo
import PeerWire

/// Full recheck: hashes every piece on disk on all cores (sixteen at a time
/// where the CPU allows) and returns the ones that verify. Used when there is
/// no resume data or the files changed. Files are opened the storage's safe
/// way and never created; a missing or short file only fails its pieces.
public enum PieceChecker {
    public static func check(_ storage: TorrentStorage, threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> Bitfield {
        let hasher = PieceHasher(layout: storage.layout, access: .tolerant(open: storage.openForReading), threads: threads)
        var result = Bitfield(count: storage.layout.pieceCount)
        // Tolerant access turns read failures into failed pieces instead of errors.
        guard let digests = try? hasher.run() else { return result }
        for piece in 0..<storage.layout.pieceCount where digests[(piece * 20)..<(piece * 20 + 20)].elementsEqual(storage.pieceHashes[piece]) {
            result[piece] = true
        }
        return result
    }
}
