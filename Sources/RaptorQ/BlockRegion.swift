/// One source block's bytes inside an object (§4.4.1.2): sub-symbol X of
/// sub-block j lies at K·Σ_{i<j} T_i + X·T_j from the block's start. The last
/// block may run past the end of the object: its sub-symbols there are read as
/// zero-padded copies and written to scratch that is cut when finished.
final class BlockRegion {
    private let layout: ObjectLayout
    private let k: Int
    private let start: UnsafeMutablePointer<UInt8>?
    private let available: Int
    private var overhanging: [Int: UnsafeMutablePointer<UInt8>] = [:]

    /// Block z of the object at `object` (only read from when encoding).
    init(layout: ObjectLayout, block z: Int, object: UnsafeMutableRawPointer?) {
        self.layout = layout
        k = layout.sourceSymbols(inBlock: z)
        start = object.map { $0.assumingMemoryBound(to: UInt8.self) + layout.blockOffset(z) }
        available = layout.blockLength(z)
    }

    deinit { for pointer in overhanging.values { pointer.deallocate() } }

    private func place(_ j: Int, _ x: Int) -> (offset: Int, size: Int) {
        (layout.subSymbolOffset(inBlockOf: k, subBlock: j, symbol: x), layout.subSymbolSizes[j])
    }

    /// A scratch sub-symbol for a place past the end of the object, zeroed
    /// and holding the bytes the object does have there.
    private func scratch(offset: Int, size: Int) -> UnsafeMutablePointer<UInt8> {
        if let existing = overhanging[offset] { return existing }
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        copy.initialize(repeating: 0, count: size)
        if offset < available, let start { copy.update(from: start + offset, count: available - offset) }
        overhanging[offset] = copy
        return copy
    }

    /// Sub-symbol x of sub-block j, to read (T_j bytes).
    func source(subBlock j: Int, symbol x: Int) -> UnsafePointer<UInt8> {
        let (offset, size) = place(j, x)
        if offset + size <= available, let start { return UnsafePointer(start + offset) }
        return UnsafePointer(scratch(offset: offset, size: size))
    }

    /// Where to write sub-symbol x of sub-block j (T_j bytes); `finish` moves
    /// what lands in scratch into place.
    func target(subBlock j: Int, symbol x: Int) -> UnsafeMutablePointer<UInt8> {
        let (offset, size) = place(j, x)
        if offset + size <= available, let start { return start + offset }
        return scratch(offset: offset, size: size)
    }

    /// Copies sub-symbol x of sub-block j from `source`, cut at the object's end.
    func store(subBlock j: Int, symbol x: Int, from source: UnsafeRawPointer) {
        let (offset, size) = place(j, x)
        let count = min(size, available - offset)
        if count > 0, let start { UnsafeMutableRawPointer(start + offset).copyMemory(from: source, byteCount: count) }
    }

    /// Moves an overhanging sub-symbol's bytes into place.
    func finish(subBlock j: Int, symbol x: Int) {
        let (offset, _) = place(j, x)
        guard let scratch = overhanging[offset] else { return }
        store(subBlock: j, symbol: x, from: UnsafeRawPointer(scratch))
    }
}
