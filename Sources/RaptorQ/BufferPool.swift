import Synchronization

/// Recycles the large working buffers of encoders and decoders. Fresh memory
/// from the system costs a page fault per 4 KiB on first touch (zeroing
/// included), which for a 16 KiB-symbol block is as much work as the coding
/// itself; a swarm codes one piece after another, so buffers are reused.
/// At most `maxBuffers` idle buffers and `maxIdleBytes` bytes are kept.
final class BufferPool: Sendable {
    static let shared = BufferPool()

    /// An idle buffer: owned by the pool alone until `take` hands it out.
    private struct Idle: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
    }

    private let idle = Mutex<[Idle]>([])
    private let maxBuffers = 8
    private let maxIdleBytes = 64 << 20

    /// A buffer of at least `byteCount` bytes (contents undefined), 64-byte aligned.
    func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let needed = max(byteCount, 64)
        let reused = idle.withLock { idle -> Idle? in
            // The smallest idle buffer that is big enough, if not wastefully big.
            let fitting = idle.indices.filter { idle[$0].buffer.count >= needed && idle[$0].buffer.count <= 2 * needed }
            return fitting.min { idle[$0].buffer.count < idle[$1].buffer.count }.map { idle.remove(at: $0) }
        }
        return reused?.buffer ?? .allocate(byteCount: needed, alignment: 64)
    }

    /// Returns a buffer from `take` for reuse (or frees it when the pool is full).
    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        let kept = idle.withLock { idle in
            let idleBytes = idle.reduce(0) { $0 + $1.buffer.count }
            guard idle.count < maxBuffers, idleBytes + buffer.count <= maxIdleBytes else { return false }
            idle.append(Idle(buffer: buffer))
            return true
        }
        if !kept { buffer.deallocate() }
    }
}
