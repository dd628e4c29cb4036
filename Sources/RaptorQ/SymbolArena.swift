/// Symbol-sized buffers in one allocation that grows by doubling: the received
/// symbols of a decoder, or a solver's working symbols. Owned by one object;
/// the memory comes from and goes back to the shared `BufferPool`.
struct SymbolArena {
    let symbolSize: Int
    private(set) var capacity: Int
    private(set) var storage: UnsafeMutableRawBufferPointer

    init(symbolSize: Int, capacity: Int) {
        self.symbolSize = symbolSize
        storage = BufferPool.shared.take(byteCount: max(1, capacity) * symbolSize)
        self.capacity = storage.count / symbolSize
    }

    func deallocate() { BufferPool.shared.give(storage) }

    /// Makes room for at least `count` symbols, keeping the first `keeping`.
    mutating func reserve(_ count: Int, keeping: Int) {
        guard count > capacity else { return }
        let newCapacity = max(count, capacity * 2)
        let bigger = BufferPool.shared.take(byteCount: newCapacity * symbolSize)
        if keeping > 0 {
            bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<(keeping * symbolSize)]))
        }
        BufferPool.shared.give(storage)
        storage = bigger
        capacity = bigger.count / symbolSize
    }

    @inline(__always)
    func pointer(_ index: Int) -> UnsafeMutablePointer<UInt8> {
        (storage.baseAddress! + index * symbolSize).assumingMemoryBound(to: UInt8.self)
    }
}
