import CKernels

/// A straight-line program of symbol operations over numbered symbol slots:
/// sums of many symbols (XOR), sums of GF(256) multiples, scalings. The solver
/// plans it once from the constraint matrix alone; running it is then pure
/// byte work in the C kernels, stripe by stripe so each stripe's working set
/// stays in cache. The same program serves every byte range of the symbols,
/// which is also how sub-blocks (§4.4.1.2) are handled.
struct SymbolProgram: Sendable {
    private(set) var ops: [bf_symbol_op]
    /// Source slots of all operations, in order (each op owns a run of them).
    private(set) var sources: [UInt32]
    /// A GF(256) coefficient per source (1 for plain sums).
    private(set) var coefficients: [UInt8]
    /// Slots 0..<slotCount are referenced.
    let slotCount: Int

    init(ops: [bf_symbol_op], sources: [UInt32], coefficients: [UInt8], slotCount: Int) {
        self.ops = ops
        self.sources = sources
        self.coefficients = coefficients
        self.slotCount = slotCount
    }

    /// Symbols read over all operations: the program's memory traffic, in symbols.
    var sourceCount: Int { sources.count }
    /// Bytes the program itself takes.
    var byteSize: Int { ops.count * MemoryLayout<bf_symbol_op>.stride + sources.count * 5 }

    /// Runs every operation on bytes offset..<offset+length of each slot.
    /// `slots` holds one pointer per slot, each valid for that byte range.
    func run(slots: UnsafePointer<UnsafeMutablePointer<UInt8>?>, offset: Int, length: Int, stripe: Int) {
        guard !ops.isEmpty, length > 0 else { return }
        ops.withUnsafeBufferPointer { opBuffer in
            sources.withUnsafeBufferPointer { sourceBuffer in
                coefficients.withUnsafeBufferPointer { coefficientBuffer in
                    bf_run_symbol_ops(opBuffer.baseAddress, opBuffer.count, sourceBuffer.baseAddress,
                                      coefficientBuffer.baseAddress, slots, offset, length, stripe)
                }
            }
        }
    }

    /// A stripe width that keeps about `budget` bytes of slots in cache: all
    /// operations run on one stripe of every symbol before the next.
    static func stripeWidth(symbolSize: Int, slotCount: Int, budget: Int = 768 * 1024) -> Int {
        guard slotCount > 0 else { return symbolSize }
        let width = max(1024, (budget / slotCount) & ~511)
        return width >= symbolSize ? symbolSize : width
    }

    /// Drops operations whose results nothing reads later and that do not write
    /// one of the `live` slots (alive at the end).
    func removingDeadOperations(live: some Sequence<Int>) -> SymbolProgram {
        let sum = UInt8(BF_OP_SUM), mulSum = UInt8(BF_OP_MULSUM)
        var isLive = [Bool](repeating: false, count: slotCount)
        for slot in live { isLive[slot] = true }
        var keep = [Bool](repeating: false, count: ops.count)
        var keptOps = 0, keptSources = 0
        ops.withUnsafeBufferPointer { ops in
            sources.withUnsafeBufferPointer { sources in
                isLive.withUnsafeMutableBufferPointer { isLive in
                    for index in stride(from: ops.count - 1, through: 0, by: -1) {
                        let op = ops[index]
                        let dst = Int(op.dst)
                        guard isLive[dst] else { continue }
                        keep[index] = true
                        keptOps += 1
                        keptSources += Int(op.count)
                        if op.kind == sum || op.kind == mulSum { isLive[dst] = false }
                        for s in Int(op.first)..<Int(op.first + op.count) { isLive[Int(sources[s])] = true }
                    }
                }
            }
        }
        if keptOps == ops.count { return self }
        var newOps = [bf_symbol_op](), newSources = [UInt32](), newCoefficients = [UInt8]()
        newOps.reserveCapacity(keptOps)
        newSources.reserveCapacity(keptSources)
        newCoefficients.reserveCapacity(keptSources)
        ops.withUnsafeBufferPointer { ops in
            sources.withUnsafeBufferPointer { sources in
                coefficients.withUnsafeBufferPointer { coefficients in
                    for index in 0..<ops.count where keep[index] {
                        var op = ops[index]
                        let first = Int(op.first)
                        op.first = UInt32(newSources.count)
                        for s in first..<(first + Int(op.count)) {
                            newSources.append(sources[s])
                            newCoefficients.append(coefficients[s])
                        }
                        newOps.append(op)
                    }
                }
            }
        }
        return SymbolProgram(ops: newOps, sources: newSources, coefficients: newCoefficients, slotCount: slotCount)
    }
}

/// Records a `SymbolProgram`. Consecutive additions into the same symbol merge
/// into one operation, so that its bytes are read and written once.
struct SymbolProgramBuilder {
    private(set) var ops: [bf_symbol_op] = []
    private var sources: [UInt32] = []
    private var coefficients: [UInt8] = []
    private(set) var slotCount: Int

    init(fixedSlots: Int) { slotCount = fixedSlots }

    /// A new temporary slot.
    mutating func newSlot() -> Int32 {
        slotCount += 1
        return Int32(slotCount - 1)
    }

    private mutating func emit(_ kind: Int32, _ dst: Int32, coef: UInt8 = 0) {
        ops.append(bf_symbol_op(dst: UInt32(dst), first: UInt32(sources.count), count: 0,
                                kind: UInt8(kind), coef: coef, reserved: 0))
    }

    private mutating func appendSource(_ source: Int32, _ coefficient: UInt8) {
        sources.append(UInt32(source))
        coefficients.append(coefficient)
        ops[ops.count - 1].count += 1
    }

    /// Whether the last operation sums into `dst` and can take more sources.
    private func lastSums(into dst: Int32, multiplying: Bool) -> Bool {
        guard let last = ops.last, last.dst == UInt32(dst) else { return false }
        let kind = Int32(last.kind)
        if kind == Int32(BF_OP_MULSUM) || kind == Int32(BF_OP_MULADD) { return true }
        return !multiplying && (kind == Int32(BF_OP_SUM) || kind == Int32(BF_OP_ADD))
    }

    /// dst = the XOR of `sources` (zero if there are none).
    mutating func assignSum(_ dst: Int32, _ terms: [Int32]) {
        emit(Int32(BF_OP_SUM), dst)
        for term in terms {
            precondition(term != dst, "a symbol cannot be summed into itself")
            appendSource(term, 1)
        }
    }

    mutating func copy(_ dst: Int32, _ src: Int32) { assignSum(dst, [src]) }
    mutating func zero(_ dst: Int32) { assignSum(dst, []) }

    /// dst ^= src
    mutating func xor(_ dst: Int32, _ src: Int32) { mulAdd(dst, src, 1) }

    /// dst ^= coef · src
    mutating func mulAdd(_ dst: Int32, _ src: Int32, _ coef: UInt8) {
        if coef == 0 { return }
        precondition(src != dst, "a symbol cannot be added to itself")
        if !lastSums(into: dst, multiplying: coef != 1) {
            emit(coef == 1 ? Int32(BF_OP_ADD) : Int32(BF_OP_MULADD), dst)
        }
        appendSource(src, coef)
    }

    /// dst = Σ coefᵢ · srcᵢ
    mutating func assignLinearCombination(_ dst: Int32, _ terms: [(Int32, UInt8)]) {
        let binary = terms.allSatisfy { $0.1 == 1 }
        emit(binary ? Int32(BF_OP_SUM) : Int32(BF_OP_MULSUM), dst)
        for (term, coefficient) in terms where coefficient != 0 {
            precondition(term != dst, "a symbol cannot be summed into itself")
            appendSource(term, coefficient)
        }
    }

    /// dst = coef · dst
    mutating func scale(_ dst: Int32, _ coef: UInt8) {
        if coef == 1 { return }
        if coef == 0 { zero(dst); return }
        emit(Int32(BF_OP_SCALE), dst, coef: coef)
    }

    /// dst = coef · dst ^ src
    mutating func scaleXor(_ dst: Int32, _ coef: UInt8, _ src: Int32) {
        if coef == 1 { xor(dst, src); return }
        emit(Int32(BF_OP_SCALE_XOR), dst, coef: coef)
        appendSource(src, 1)
    }

    /// Renumbers every operand through `map`; the builder then has `slotCount` slots.
    func remapped(slotMap map: [Int32], slotCount newCount: Int) -> SymbolProgramBuilder {
        var copy = self
        copy.ops = ops.map { op in
            var op = op
            op.dst = UInt32(map[Int(op.dst)])
            return op
        }
        copy.sources = sources.map { UInt32(map[Int($0)]) }
        copy.slotCount = newCount
        return copy
    }

    func finish() -> SymbolProgram {
        SymbolProgram(ops: ops, sources: sources, coefficients: coefficients, slotCount: slotCount)
    }
}
