/// The program that recovers a block's missing source symbols from a set of
/// received encoding symbols (§5.4): it depends only on K and on which ESIs
/// arrived, so it is planned once and then run on any byte range of the
/// symbols — the whole symbol for the swarm's blocks, one sub-block at a time
/// for objects (§4.4.1.2).
///
/// Slots: intermediate symbols 0..<L, the received symbols L..<L+E (in the
/// order given), the recovered source symbols (in `missing` order), then scratch.
struct DecodingPlan {
    let parameters: CodeParameters
    let program: SymbolProgram
    let receivedCount: Int
    /// Source symbol indices the program writes, in slot order.
    let missing: [Int]

    var receivedSlotBase: Int { parameters.intermediateSymbols }
    var outputSlotBase: Int { parameters.intermediateSymbols + receivedCount }
    var scratchSlotBase: Int { outputSlotBase + missing.count }
    var scratchSlots: Int { program.slotCount - scratchSlotBase }
    /// Symbols of working memory a run needs: intermediate symbols and scratch.
    var workSymbols: Int { parameters.intermediateSymbols + scratchSlots }

    /// Plans recovery of `missing` from symbols with the given distinct ESIs,
    /// or returns nil when they do not determine the block.
    init?(parameters p: CodeParameters, receivedESIs: [UInt32], missing: [Int]) {
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
    }

    /// Runs the program on `length` bytes per symbol. `received(e)` and
    /// `output(n)` point at those bytes of received symbol e and of the n-th
    /// missing symbol; `work` holds `workSymbols` buffers `workStride` bytes apart.
    func run(received: (Int) -> UnsafeMutablePointer<UInt8>, output: (Int) -> UnsafeMutablePointer<UInt8>,
             work: UnsafeMutablePointer<UInt8>, workStride: Int, length: Int) {
        let l = parameters.intermediateSymbols
        var slots = [UnsafeMutablePointer<UInt8>?](repeating: nil, count: program.slotCount)
        for j in 0..<l { slots[j] = work + j * workStride }
        for e in 0..<receivedCount { slots[receivedSlotBase + e] = received(e) }
        for n in missing.indices { slots[outputSlotBase + n] = output(n) }
        for s in 0..<scratchSlots { slots[scratchSlotBase + s] = work + (l + s) * workStride }
        let stripe = SymbolProgram.stripeWidth(symbolSize: length, slotCount: program.slotCount)
        slots.withUnsafeBufferPointer { table in
            program.run(slots: table.baseAddress!, offset: 0, length: length, stripe: stripe)
        }
    }
}
