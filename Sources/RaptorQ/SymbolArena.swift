/// Symbol-sized buffers in one allocation that grows by doubling: the received
/// symbols of a decoder, or a solver's working symbols. Owned by one object.
struct SymbolArena {
    let symbolSize: Int
    private(set) var capacity: Int
    private(set) var storage: UnsafeMutableRawBufferPointer

    init(symbolSize: Int, capacity: Int) {
        self.symbolSize = symbolSize
        self.capacity = max(1, capacity)
        storage = .allocate(byteCount: self.capacity * symbolSize, alignment: 64)
    }

    func deallocate() { storage.deallocate() }

    /// Makes room for at least `count` symbols, keeping the first `keeping`.
    mutating func reserve(_ count: Int, keeping: Int) {
        guard count > capacity else { return }
        let newCapacity = max(count, capacity * 2)
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: newCapacity * symbolSize, alignment: 64)
        if keeping > 0 {
            bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<(keeping * symbolSize)]))
        }
        storage.deallocate()
        storage = bigger
        capacity = newCapacity
    }

    @inline(__always)
    func pointer(_ index: Int) -> UnsafeMutablePointer<UInt8> {
        (storage.baseAddress! + index * symbolSize).assumingMemoryBound(to: UInt8.self)
    }
}
