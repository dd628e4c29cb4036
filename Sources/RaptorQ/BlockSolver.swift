/// Plans the computation of a block's L intermediate symbols from a set of
/// equations (RFC 6330 §5.4, inactivation decoding), as a `SymbolProgram`.
///
/// Slots: intermediate symbol j is slot j (0..<L); the caller numbers the other
/// fixed slots (the right-hand sides of the equations, outputs); temporaries the
/// plan needs come after the fixed slots.
///
/// How the phases of §5.4.2 are organised here (none of this changes the result,
/// only the work; the intermediate symbols of a full-rank system are unique):
/// - Phase 1 is peeling on the binary rows (`InactivationPeeling`). HDPC rows
///   never need choosing (P ≥ H), which keeps every chosen row binary.
/// - The chosen rows, in their original form, are lower triangular on the solved
///   columns. Writing each solved symbol as "known part + combination of
///   inactive symbols" (forward substitution) gives the right-hand sides and
///   coefficients of the remaining rows without replaying row operations, and
///   only needs the sparse original rows.
/// - HDPC rows are never formed as a dense H × (K'+S) matrix: G_HDPC = MT·Γ is
///   applied through the recurrence y_k = α·y_{k-1} + C_k, one multiply and two
///   XORs per column.
/// - Phase 2 (`LowerSystem`) eliminates in the matrix domain, binary rows
///   first, the HDPC rows for the few columns left; each inactive symbol is
///   then written once, as a sum over the rows' right-hand sides.
/// - Solved symbols are then finished by forward substitution again, or from
///   their known part plus inactive symbols, whichever is fewer operations
///   (phases 3–5 of the RFC collapse into this).
struct BlockSolver {
    /// An equation: the LT row of internal symbol ID `isi` equals the symbol in
    /// slot `rhs`, or the zero symbol when `rhs` is nil (padding symbols).
    struct Equation {
        var isi: UInt32
        var rhs: Int32?
    }

    let parameters: CodeParameters
    let graph: ConstraintGraph
    let peeling: PeelingResult
    let equationRHS: [Int32?]
    var builder: SymbolProgramBuilder
    /// Per solved step t: the combination of inactive symbols in C[pivotColumns[t]] beyond its known part.
    let inactiveCombination: BitRows
    let fixedSlots: Int

    /// Plans the solve, or returns nil when the equations do not determine the block.
    static func plan(parameters: CodeParameters, equations: [Equation], fixedSlots: Int) -> SymbolProgramBuilder? {
        var solver = BlockSolver(parameters: parameters, equations: equations, fixedSlots: fixedSlots)
        return solver.solve()
    }

    private init(parameters: CodeParameters, equations: [Equation], fixedSlots: Int) {
        self.parameters = parameters
        self.fixedSlots = fixedSlots
        graph = ConstraintGraph(parameters: parameters, isis: equations.map(\.isi))
        peeling = InactivationPeeling.run(graph, firstInactiveColumn: parameters.ltSymbols)
        equationRHS = equations.map(\.rhs)
        builder = SymbolProgramBuilder(fixedSlots: fixedSlots)
        inactiveCombination = BitRows(rows: peeling.pivotRows.count, bits: peeling.inactiveCount)
    }

    /// The right-hand side slot of binary row r (LDPC rows and padding are zero).
    @inline(__always)
    func rhs(ofRow r: Int) -> Int32? {
        let equation = r - parameters.ldpcSymbols
        return equation >= 0 ? equationRHS[equation] : nil
    }

    private mutating func solve() -> SymbolProgramBuilder? {
        guard peeling.pivotRows.count + peeling.lowerRows.count + parameters.hdpcSymbols >= parameters.intermediateSymbols
        else { return nil }
        computeKnownParts()
        var lower = LowerSystem(inactiveCount: peeling.inactiveCount)
        addLowerBinaryRows(to: &lower)
        addHDPCRows(to: &lower)
        guard let inactiveSlots = lower.solve(builder: &builder) else { return nil }
        finishSolvedSymbols(inactiveSlots: inactiveSlots)
        return placeInactiveSymbols(inactiveSlots: inactiveSlots)
    }

    /// Forward substitution over the chosen rows: C[pivot] = its row's right-hand
    /// side plus the earlier solved symbols of its row; tracks which inactive
    /// symbols each one still lacks.
    private mutating func computeKnownParts() {
        var sources: [Int32] = []
        for t in peeling.pivotRows.indices {
            let r = Int(peeling.pivotRows[t])
            let pivot = peeling.pivotColumns[t]
            sources.removeAll(keepingCapacity: true)
            if let slot = rhs(ofRow: r) { sources.append(slot) }
            for k in graph.rowRange(r) {
                let c = Int(graph.columns[k])
                if let u = peeling.inactiveIndex(ofColumn: c) {
                    inactiveCombination.flip(t, u)
                } else if c != pivot {
                    sources.append(Int32(c))
                    inactiveCombination.add(Int(peeling.columnRole[c]), into: t)
                }
            }
            builder.assignSum(pivot, sources)
        }
    }

    /// Unchosen binary rows, with the solved symbols substituted.
    private mutating func addLowerBinaryRows(to lower: inout LowerSystem) {
        var sources: [Int32] = []
        for rowIndex in peeling.lowerRows {
            let r = Int(rowIndex)
            let row = lower.newBinaryRow()
            sources.removeAll(keepingCapacity: true)
            if let slot = rhs(ofRow: r) { sources.append(slot) }
            for k in graph.rowRange(r) {
                let c = Int(graph.columns[k])
                if let u = peeling.inactiveIndex(ofColumn: c) {
                    lower.binary.flip(row, u)
                } else {
                    sources.append(Int32(c))
                    lower.binary.add(Int(peeling.columnRole[c]), of: inactiveCombination, into: row)
                }
            }
            if lower.binary.isZero(row) {
                lower.dropLastBinaryRow() // a redundant equation
                continue
            }
            let slot = builder.newSlot()
            builder.assignSum(slot, sources)
            lower.binarySlots.append(slot)
        }
    }

    /// Final values of the solved symbols, in order of solution.
    private mutating func finishSolvedSymbols(inactiveSlots: [Int32]) {
        var sources: [Int32] = []
        for t in peeling.pivotRows.indices {
            let r = Int(peeling.pivotRows[t])
            let pivot = peeling.pivotColumns[t]
            let missing = inactiveCombination.popCount(t)
            if missing == 0 { continue }
            sources.removeAll(keepingCapacity: true)
            if let slot = rhs(ofRow: r) { sources.append(slot) }
            for k in graph.rowRange(r) {
                let c = Int(graph.columns[k])
                if let u = peeling.inactiveIndex(ofColumn: c) {
                    sources.append(inactiveSlots[u])
                } else if c != pivot {
                    sources.append(Int32(c))
                }
            }
            if sources.count - 1 < missing {
                builder.assignSum(pivot, sources)
            } else {
                inactiveCombination.forEachSetBit(t) { u in builder.xor(pivot, inactiveSlots[u]) }
            }
        }
    }

    /// Renumbers temporaries: the row that solved inactive column c becomes C[c]
    /// itself (nothing else uses C[c] before), the other temporaries follow the fixed slots.
    private func placeInactiveSymbols(inactiveSlots: [Int32]) -> SymbolProgramBuilder {
        var map = (0..<builder.slotCount).map { Int32($0) }
        var isPlaced = [Bool](repeating: false, count: builder.slotCount)
        for (u, slot) in inactiveSlots.enumerated() {
            map[Int(slot)] = peeling.inactiveColumns[u]
            isPlaced[Int(slot)] = true
        }
        var nextScratch = Int32(fixedSlots)
        for slot in fixedSlots..<builder.slotCount where !isPlaced[slot] {
            map[slot] = nextScratch
            nextScratch += 1
        }
        return builder.remapped(slotMap: map, slotCount: Int(nextScratch))
    }
}
