import NIOCore
import NIOPosix
import Swarm

/// Whole pieces read from disk for serving, kept for a while: peers ask for a
/// piece block by block, so one `pread` of the piece answers all of them and
/// each block goes out as a slice of it (no copy). Reads run on the I/O pool;
/// concurrent requests for one piece share one read. Event-loop confined.
final class PieceReadCache {
    private let storage: TorrentStorage
    private let pool: NIOThreadPool
    private let loop: EventLoop
    private let capacity: Int
    private var entries: [Int: EventLoopFuture<ByteBuffer>] = [:]
    private var order = CircularBuffer<Int>()

    init(storage: TorrentStorage, pool: NIOThreadPool, loop: EventLoop, budgetBytes: Int = 64 << 20) {
        self.storage = storage
        self.pool = pool
        self.loop = loop
        capacity = max(4, budgetBytes / max(storage.layout.pieceLength, 1))
    }

    func pieceLength(_ index: Int) -> Int { storage.layout.length(ofPiece: index) }

    func piece(_ index: Int) -> EventLoopFuture<ByteBuffer> {
        if let cached = entries[index] { return cached }
        let storage = self.storage
        let length = storage.layout.length(ofPiece: index)
        let offset = Int64(index) * Int64(storage.layout.pieceLength)
        let future = pool.runIfActive(eventLoop: loop) { () throws -> ByteBuffer in
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                try storage.read(into: UnsafeMutableRawBufferPointer(rebasing: target[0..<length]), at: offset)
                return length
            }
            return buffer
        }
        entries[index] = future
        order.append(index)
        if order.count > capacity, let oldest = order.popFirst() { entries.removeValue(forKey: oldest) }
        // A failed read is not kept (the next request tries again), unless a newer read replaced it.
        future.assumeIsolated().whenFailure { [weak self] _ in
            guard let self, self.entries[index] === future else { return }
            self.entries.removeValue(forKey: index)
            self.order.removeAll { $0 == index }
        }
        return future
    }
}
