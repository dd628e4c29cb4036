import Foundation
import PeerWire
import Synchronization

/// Full recheck: hashes every piece on disk on all cores and returns the ones
/// that verify. Used when there is no resume data or the files changed.
public enum PieceChecker {
    public static func check(_ storage: TorrentStorage, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                             progress: @escaping @Sendable (Int) -> Void = { _ in }) -> Bitfield {
        let pieceCount = storage.layout.pieceCount
        let next = Atomic<Int>(0)
        let checked = Atomic<Int>(0)
        let results = Mutex(Bitfield(count: pieceCount))
        let workers = max(1, min(threads, pieceCount))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            Thread.detachNewThread {
                let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(storage.layout.pieceLength, 1), alignment: 64)
                defer { scratch.deallocate(); group.leave() }
                var good: [Int] = []
                while true {
                    let piece = next.add(1, ordering: .relaxed).oldValue
                    guard piece < pieceCount else { break }
                    if storage.verifyOnDisk(piece, scratch: scratch) { good.append(piece) }
                    progress(checked.add(1, ordering: .relaxed).newValue)
                }
                results.withLock { bitfield in for piece in good { bitfield[piece] = true } }
            }
        }
        group.wait()
        return results.withLock { $0 }
    }
}
