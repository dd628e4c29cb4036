/// Recycles the large working buffers of encoders and decoders. Fresh memory
/// from the system costs a page fault per 4 KiB on first touch (zeroing
/// included), which for a 16 KiB-symbol block is as much work as the coding
/// itself; a swarm codes one piece after another, so buffers are reused.
/// At most `maxBuffers` idle buffers and `maxIdleBytes` bytes are kept.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()

    private let lock = Lock()
    private var idle: [UnsafeMutableRawBufferPointer] = []
    private let maxBuffers = 8
    private let maxIdleBytes = 64 << 20

    /// A buffer of at least `byteCount` bytes (contents undefined), 64-byte aligned.
    func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let needed = max(byteCount, 64)
        let reused: UnsafeMutableRawBufferPointer? = lock.withLock {
            // The smallest idle buffer that is big enough, if not wastefully big.
            var best = -1
            for (index, buffer) in idle.enumerated() where buffer.count >= needed && buffer.count <= 2 * needed {
                if best < 0 || buffer.count < idle[best].count { best = index }
            }
            return best >= 0 ? idle.remove(at: best) : nil
        }
        return reused ?? .allocate(byteCount: needed, alignment: 64)
    }

    /// Returns a buffer from `take` for reuse (or frees it when the pool is full).
    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        let kept: Bool = lock.withLock {
            let idleBytes = idle.reduce(0) { $0 + $1.count }
            guard idle.count < maxBuffers, idleBytes + buffer.count <= maxIdleBytes else { return false }
            idle.append(buffer)
            return true
        }
        if !kept { buffer.deallocate() }
    }
}
