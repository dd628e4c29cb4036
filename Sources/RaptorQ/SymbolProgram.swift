import CKernels

/// A straight-line program of symbol operations (XOR, GF(256) multiply-add,
/// scale, copy) over numbered symbol slots. The solver plans it once from the
/// constraint matrix alone; running it on the symbols is then pure byte work
/// in the C kernels, stripe by stripe so each stripe's working set stays in
/// cache. The same program serves every byte range of the symbols, which is
/// also how sub-blocks (§4.4.1.2) are handled.
struct SymbolProgram: Sendable {
    /// Operations in order; operands are slot numbers.
    private(set) var ops: [bf_symbol_op]
    /// Slots 0..<slotCount are referenced.
    let slotCount: Int

    init(ops: [bf_symbol_op], slotCount: Int) {
        self.ops = ops
        self.slotCount = slotCount
    }

    var operationCount: Int { ops.count }

    /// Runs every operation on bytes offset..<offset+length of each slot.
    /// `slots` holds one pointer per slot, each valid for that byte range.
    func run(slots: UnsafePointer<UnsafeMutablePointer<UInt8>?>, offset: Int, length: Int, stripe: Int) {
        guard !ops.isEmpty, length > 0 else { return }
        ops.withUnsafeBufferPointer { buffer in
            bf_run_symbol_ops(buffer.baseAddress, buffer.count, slots, offset, length, stripe)
        }
    }

    /// A stripe width that keeps about `budget` bytes of slots in cache: all
    /// operations run on one stripe of every symbol before the next.
    static func stripeWidth(symbolSize: Int, slotCount: Int, budget: Int = 768 * 1024) -> Int {
        guard slotCount > 0 else { return symbolSize }
        let width = max(1024, (budget / slotCount) & ~63)
        return width >= symbolSize ? symbolSize : width
    }

    /// Drops operations whose results no later operation reads and that do not
    /// write one of the `live` slots (kept alive to the end).
    func removingDeadOperations(live: some Sequence<Int>) -> SymbolProgram {
        var isLive = [Bool](repeating: false, count: slotCount)
        for slot in live { isLive[slot] = true }
        var keep = [Bool](repeating: false, count: ops.count)
        var kept = 0
        for index in stride(from: ops.count - 1, through: 0, by: -1) {
            let op = ops[index]
            let dst = Int(op.dst)
            guard isLive[dst] else { continue }
            keep[index] = true
            kept += 1
            switch Int32(op.kind) {
            case Int32(BF_OP_XOR), Int32(BF_OP_MULADD):
                isLive[Int(op.a)] = true
            case Int32(BF_OP_SCALE):
                break
            case Int32(BF_OP_SCALE_XOR):
                isLive[Int(op.a)] = true
            case Int32(BF_OP_XOR3):
                isLive[dst] = false
                isLive[Int(op.a)] = true
                isLive[Int(op.b)] = true
            case Int32(BF_OP_COPY):
                isLive[dst] = false
                isLive[Int(op.a)] = true
            default: // BF_OP_ZERO
                isLive[dst] = false
            }
        }
        var pruned: [bf_symbol_op] = []
        pruned.reserveCapacity(kept)
        for index in ops.indices where keep[index] { pruned.append(ops[index]) }
        return SymbolProgram(ops: pruned, slotCount: slotCount)
    }
}

/// Records a `SymbolProgram`, tracking which slots are known to hold zero so
/// that operations on zero symbols become copies or disappear.
struct SymbolProgramBuilder {
    private(set) var ops: [bf_symbol_op] = []
    private(set) var slotCount: Int

    init(fixedSlots: Int) { slotCount = fixedSlots }

    /// A new temporary slot.
    mutating func newSlot() -> Int32 {
        slotCount += 1
        return Int32(slotCount - 1)
    }

    private mutating func emit(_ kind: Int32, _ dst: Int32, _ a: Int32 = 0, _ b: Int32 = 0, coef: UInt8 = 0) {
        ops.append(bf_symbol_op(dst: UInt32(dst), a: UInt32(a), b: UInt32(b), kind: UInt8(kind), coef: coef, reserved: 0))
    }

    mutating func xor(_ dst: Int32, _ src: Int32) { emit(Int32(BF_OP_XOR), dst, src) }
    mutating func copy(_ dst: Int32, _ src: Int32) { emit(Int32(BF_OP_COPY), dst, src) }
    mutating func zero(_ dst: Int32) { emit(Int32(BF_OP_ZERO), dst) }

    /// dst ^= coef · src
    mutating func mulAdd(_ dst: Int32, _ src: Int32, _ coef: UInt8) {
        if coef == 0 { return }
        if coef == 1 { xor(dst, src) } else { emit(Int32(BF_OP_MULADD), dst, src, coef: coef) }
    }

    /// dst = coef · dst
    mutating func scale(_ dst: Int32, _ coef: UInt8) {
        if coef == 1 { return }
        if coef == 0 { zero(dst) } else { emit(Int32(BF_OP_SCALE), dst, coef: coef) }
    }

    /// dst = coef · dst ^ src
    mutating func scaleXor(_ dst: Int32, _ coef: UInt8, _ src: Int32) {
        if coef == 1 { xor(dst, src) } else { emit(Int32(BF_OP_SCALE_XOR), dst, src, coef: coef) }
    }

    /// dst = the XOR of `sources` (zero if there are none).
    mutating func assignSum(_ dst: Int32, _ sources: [Int32]) {
        switch sources.count {
        case 0: zero(dst)
        case 1: copy(dst, sources[0])
        default:
            emit(Int32(BF_OP_XOR3), dst, sources[0], sources[1])
            for source in sources.dropFirst(2) { xor(dst, source) }
        }
    }

    /// Renumbers every operand through `map`; the builder then has `slotCount` slots.
    func remapped(slotMap map: [Int32], slotCount newCount: Int) -> SymbolProgramBuilder {
        var copy = self
        copy.ops = ops.map { op in
            var op = op
            op.dst = UInt32(map[Int(op.dst)])
            op.a = UInt32(map[Int(op.a)])
            op.b = UInt32(map[Int(op.b)])
            return op
        }
        copy.slotCount = newCount
        return copy
    }

    func finish() -> SymbolProgram { SymbolProgram(ops: ops, slotCount: slotCount) }
}
