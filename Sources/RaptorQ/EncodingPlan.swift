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

    private static let lock = Lock()
    nonisolated(unsafe) private static var cache: [Int: EncodingPlan] = [:]
    nonisolated(unsafe) private static var order: [Int] = []
    nonisolated(unsafe) private static var cachedBytes = 0
    /// Plans for pieces are tens of kilobytes; for the largest blocks (K'max) about ten megabytes.
    private static let cacheByteLimit = 32 << 20

    /// Empties the shared cache.
    static func discardCached() {
        lock.withLock {
            cache.removeAll()
            order.removeAll()
            cachedBytes = 0
        }
    }

    /// The plan for blocks of `parameters.sourceSymbols` symbols, from a small
    /// shared cache (least recently planned first out).
    static func shared(for parameters: CodeParameters) -> EncodingPlan {
        let k = parameters.sourceSymbols
        if let plan = lock.withLock({ cache[k] }) { return plan }
        let plan = EncodingPlan(parameters: parameters)
        lock.withLock {
            guard cache[k] == nil, plan.program.byteSize <= cacheByteLimit else { return }
            cache[k] = plan
            order.append(k)
            cachedBytes += plan.program.byteSize
            while cachedBytes > cacheByteLimit, let oldest = order.first {
                order.removeFirst()
                cachedBytes -= cache.removeValue(forKey: oldest)?.program.byteSize ?? 0
            }
        }
        return plan
    }
}
