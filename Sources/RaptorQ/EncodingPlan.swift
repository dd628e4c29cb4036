import Synchronization

/// The program that turns a block's K source symbols into its L intermediate
/// symbols (§5.3.3.4). It depends on K alone, so it is planned once per K and
/// shared: the swarm encodes many pieces of the same size.
///
/// Slots: intermediate symbols 0..<L, source symbols L..<L+K, then scratch.
struct EncodingPlan: Sendable {
    let parameters: CodeParameters
    let program: SymbolProgram

    var intermediateSymbols: Int { parameters.intermediateSymbols }
    var sourceSlotBase: Int { parameters.intermediateSymbols }
    var scratchSlotBase: Int { parameters.intermediateSymbols + parameters.sourceSymbols }
    var scratchSlots: Int { program.slotCount - scratchSlotBase }

    init(parameters p: CodeParameters) {
        parameters = p
        let l = p.intermediateSymbols
        // Source symbol i has ISI i; the padding symbols K..<K' are zero.
        let equations = (0..<p.extendedSymbols).map { isi in
            BlockSolver.Equation(isi: UInt32(isi), rhs: isi < p.sourceSymbols ? Int32(l + isi) : nil)
        }
        guard let builder = BlockSolver.plan(parameters: p, equations: equations, fixedSlots: l + p.sourceSymbols) else {
            // The systematic indices of Table 2 exist to make this matrix invertible.
            preconditionFailure("RFC 6330 encoding matrix singular for K = \(p.sourceSymbols)")
        }
        program = builder.finish().removingDeadOperations(live: 0..<l)
    }

    /// Runs the plan on `length` bytes per symbol: `source(i)` points at those
    /// bytes of source symbol i (read only), intermediate symbol j goes to
    /// `intermediate + j·stride`, and `scratch` holds `scratchSlots` buffers
    /// `stride` bytes apart.
    func run(source: (Int) -> UnsafePointer<UInt8>, intermediate: UnsafeMutablePointer<UInt8>,
             scratch: UnsafeMutablePointer<UInt8>, stride: Int, length: Int) {
        var slots = [UnsafeMutablePointer<UInt8>?](repeating: nil, count: program.slotCount)
        for j in 0..<parameters.intermediateSymbols { slots[j] = intermediate + j * stride }
        // The program only reads source slots.
        for i in 0..<parameters.sourceSymbols { slots[sourceSlotBase + i] = UnsafeMutablePointer(mutating: source(i)) }
        for s in 0..<scratchSlots { slots[scratchSlotBase + s] = scratch + s * stride }
        let stripe = SymbolProgram.stripeWidth(symbolSize: length, slotCount: program.slotCount)
        slots.withUnsafeBufferPointer { table in
            program.run(slots: table.baseAddress!, offset: 0, length: length, stripe: stripe)
        }
    }

    /// Plans by K, oldest first, within `cacheByteLimit` bytes of programs.
    private struct Cache {
        var plans: [Int: EncodingPlan] = [:]
        var order: [Int] = []
        var bytes = 0
    }

    private static let cache = Mutex(Cache())
    /// Plans for pieces are tens of kilobytes; for the largest blocks (K'max) about ten megabytes.
    private static let cacheByteLimit = 32 << 20

    /// Empties the shared cache.
    static func discardCached() {
        cache.withLock { $0 = Cache() }
    }

    /// The plan for blocks of `parameters.sourceSymbols` symbols, from a small
    /// shared cache (the oldest plan leaves first). Planning happens outside
    /// the lock; two threads planning the same K at once keep the first plan.
    static func shared(for parameters: CodeParameters) -> EncodingPlan {
        let k = parameters.sourceSymbols
        if let plan = cache.withLock({ $0.plans[k] }) { return plan }
        let plan = EncodingPlan(parameters: parameters)
        guard plan.program.byteSize <= cacheByteLimit else { return plan }
        return cache.withLock { cache in
            if let existing = cache.plans[k] { return existing }
            cache.plans[k] = plan
            cache.order.append(k)
            cache.bytes += plan.program.byteSize
            while cache.bytes > cacheByteLimit, let oldest = cache.order.first {
                cache.order.removeFirst()
                cache.bytes -= cache.plans.removeValue(forKey: oldest)?.program.byteSize ?? 0
            }
            return plan
        }
    }
}
