/// The program that recovers a block's missing source symbols from a set of
/// received encoding symbols (§5.4): it depends only on K and on which ESIs
/// arrived, so it is planned once and then run on any byte range of the
/// symbols — the whole symbol for the swarm's blocks, one sub-block at a time
/// for objects (§4.4.1.2).
///
/// Slots: intermediate symbols 0..<L, the received symbols L..<L+E (in the
/// order given), the recovered source symbols (in `missing` order), then scratch.
///
/// When few symbols are missing from a small block, it is cheaper to skip the
/// intermediate symbols altogether: the program is linear in the received
/// symbols, so running it once on coefficient vectors (E bytes per slot, the
/// received slots starting as unit vectors) yields each missing symbol as a
/// GF(256) combination of the received ones, and the program becomes one sum
/// per missing symbol (`isDirect`).
struct DecodingPlan {
    let parameters: CodeParameters
    private(set) var program: SymbolProgram
    let receivedCount: Int
    /// Source symbol indices the program writes, in slot order.
    let missing: [Int]
    /// The program reads only received symbols (no intermediate symbols, no scratch).
    private(set) var isDirect = false

    var receivedSlotBase: Int { parameters.intermediateSymbols }
    var outputSlotBase: Int { parameters.intermediateSymbols + receivedCount }
    var scratchSlotBase: Int { outputSlotBase + missing.count }
    var scratchSlots: Int { isDirect ? 0 : program.slotCount - scratchSlotBase }
    /// Symbols of working memory a run needs: intermediate symbols and scratch.
    var workSymbols: Int { isDirect ? 0 : parameters.intermediateSymbols + scratchSlots }

    /// Plans recovery of `missing` from symbols of `symbolSize` bytes with the
    /// given distinct ESIs, or returns nil when they do not determine the block.
    init?(parameters p: CodeParameters, receivedESIs: [UInt32], missing: [Int], symbolSize: Int) {
        let l = p.intermediateSymbols
        var equations: [BlockSolver.Equation] = []
        equations.reserveCapacity(receivedESIs.count + p.extendedSymbols - p.sourceSymbols)
        for (slot, esi) in receivedESIs.enumerated() {
            equations.append(.init(isi: p.internalSymbolID(forESI: esi), rhs: Int32(l + slot)))
        }
        for isi in p.sourceSymbols..<p.extendedSymbols { equations.append(.init(isi: UInt32(isi), rhs: nil)) }
        let outputBase = l + receivedESIs.count
        guard var builder = BlockSolver.plan(parameters: p, equations: equations, fixedSlots: outputBase + missing.count)
        else { return nil }
        var sources: [Int32] = []
        for (n, i) in missing.enumerated() {
            sources.removeAll(keepingCapacity: true)
            EncodingTuple(isi: UInt32(i), parameters: p).forEachColumn(p) { sources.append(Int32($0)) }
            builder.assignSum(Int32(outputBase + n), sources)
        }
        parameters = p
        receivedCount = receivedESIs.count
        self.missing = missing
        program = builder.finish().removingDeadOperations(live: outputBase..<(outputBase + missing.count))
        // Bytes read: the program, sourceCount symbols; direct sums, missing × E
        // symbols after running the program once on E-byte coefficient vectors.
        // Those vectors take slots × E bytes, which grows with K²: past the
        // decoder working memory objects are partitioned for, keep the program.
        let e = receivedCount, reads = program.sourceCount
        if reads * e + missing.count * e * symbolSize < reads * symbolSize,
           program.slotCount * e <= ObjectTransmissionInformation.defaultWorkingMemory {
            makeDirect()
        }
    }

    /// Replaces the program by one GF(256) sum of received symbols per missing symbol.
    private mutating func makeDirect() {
        let e = receivedCount
        let slotCount = program.slotCount
        var vectors = [UInt8](repeating: 0, count: slotCount * e)
        for r in 0..<e { vectors[(receivedSlotBase + r) * e + r] = 1 }
        vectors.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let slots = (0..<slotCount).map { Optional(base + $0 * e) }
            slots.withUnsafeBufferPointer { program.run(slots: $0.baseAddress!, offset: 0, length: e, stripe: 0) }
        }
        var builder = SymbolProgramBuilder(fixedSlots: slotCount)
        for n in missing.indices {
            let row = (outputSlotBase + n) * e
            let terms = (0..<e).compactMap { r in vectors[row + r] == 0 ? nil : (Int32(receivedSlotBase + r), vectors[row + r]) }
            builder.assignLinearCombination(Int32(outputSlotBase + n), terms)
        }
        program = builder.finish()
        isDirect = true
    }

    /// Runs the program on `length` bytes per symbol. `received(e)` and
    /// `output(n)` point at those bytes of received symbol e and of the n-th
    /// missing symbol; `work` holds `workSymbols` buffers `workStride` bytes apart.
    func run(received: (Int) -> UnsafeMutablePointer<UInt8>, output: (Int) -> UnsafeMutablePointer<UInt8>,
             work: UnsafeMutablePointer<UInt8>, workStride: Int, length: Int) {
        let l = parameters.intermediateSymbols
        var slots = [UnsafeMutablePointer<UInt8>?](repeating: nil, count: program.slotCount)
        if !isDirect {
            for j in 0..<l { slots[j] = work + j * workStride }
            for s in 0..<scratchSlots { slots[scratchSlotBase + s] = work + (l + s) * workStride }
        }
        for e in 0..<receivedCount { slots[receivedSlotBase + e] = received(e) }
        for n in missing.indices { slots[outputSlotBase + n] = output(n) }
        let stripe = SymbolProgram.stripeWidth(symbolSize: length, slotCount: program.slotCount)
        slots.withUnsafeBufferPointer { table in
            program.run(slots: table.baseAddress!, offset: 0, length: length, stripe: stripe)
        }
    }
}
