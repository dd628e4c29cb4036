/// Phase 2 (§5.4.2.3): the rows left after peeling, as equations over the u
/// inactive symbols only. Binary rows are bit vectors and are eliminated first
/// with XORs alone (Gauss–Jordan); the columns no binary row can solve are then
/// solved with the HDPC rows (and any binary rows left over) in GF(256).
/// Every row operation is mirrored on the rows' symbols through the builder.
struct LowerSystem {
    let inactiveCount: Int
    var binary: BitRows
    var binarySlots: [Int32] = []
    private var hdpcRows: [[UInt8]] = []
    private var hdpcSlots: [Int32] = []

    init(inactiveCount: Int) {
        self.inactiveCount = inactiveCount
        binary = BitRows(rows: 0, bits: inactiveCount)
    }

    mutating func newBinaryRow() -> Int { binary.appendRow() }
    mutating func dropLastBinaryRow() { binary.removeLastRow() }

    mutating func appendHDPCRow(_ coefficients: [UInt8], slot: Int32) {
        hdpcRows.append(coefficients)
        hdpcSlots.append(slot)
    }

    /// Solves for the inactive symbols; returns the slot that ends up holding each
    /// one, or nil when the rows do not have full rank.
    mutating func solve(builder: inout SymbolProgramBuilder) -> [Int32]? {
        let u = inactiveCount
        let binaryCount = binary.rowCount
        var pivotOfColumn = [Int](repeating: -1, count: u)
        var isPivot = [Bool](repeating: false, count: binaryCount)
        var deferred: [Int] = []

        // Binary Gauss–Jordan.
        for column in 0..<u {
            var pivot = -1
            for r in 0..<binaryCount where !isPivot[r] && binary.bit(r, column) {
                pivot = r
                break
            }
            if pivot < 0 {
                deferred.append(column)
                continue
            }
            isPivot[pivot] = true
            pivotOfColumn[column] = pivot
            for r in 0..<binaryCount where r != pivot && binary.bit(r, column) {
                binary.add(pivot, into: r)
                builder.xor(binarySlots[r], binarySlots[pivot])
            }
        }

        // The remaining system over the deferred columns: HDPC rows with the
        // binary pivots eliminated, plus binary rows that solved nothing.
        var rows: [[UInt8]] = []
        var slots: [Int32] = []
        for (index, full) in hdpcRows.enumerated() {
            var row = [UInt8](repeating: 0, count: deferred.count)
            for (q, column) in deferred.enumerated() { row[q] = full[column] }
            for column in 0..<u {
                let pivot = pivotOfColumn[column]
                let coefficient = full[column]
                guard pivot >= 0, coefficient != 0 else { continue }
                builder.mulAdd(hdpcSlots[index], binarySlots[pivot], coefficient)
                for (q, deferredColumn) in deferred.enumerated() where binary.bit(pivot, deferredColumn) {
                    row[q] ^= coefficient
                }
            }
            rows.append(row)
            slots.append(hdpcSlots[index])
        }
        for r in 0..<binaryCount where !isPivot[r] {
            let row = deferred.map { binary.bit(r, $0) ? UInt8(1) : 0 }
            if row.contains(where: { $0 != 0 }) {
                rows.append(row)
                slots.append(binarySlots[r])
            }
        }
        guard let deferredSlots = Self.solveDense(&rows, slots: slots, builder: &builder) else { return nil }

        // Back-substitute the deferred symbols into the binary pivot rows.
        var result = [Int32](repeating: -1, count: u)
        for (q, column) in deferred.enumerated() { result[column] = deferredSlots[q] }
        for column in 0..<u where pivotOfColumn[column] >= 0 {
            let pivot = pivotOfColumn[column]
            for (q, deferredColumn) in deferred.enumerated() where binary.bit(pivot, deferredColumn) {
                builder.xor(binarySlots[pivot], deferredSlots[q])
            }
            result[column] = binarySlots[pivot]
        }
        return result
    }

    /// Gauss–Jordan elimination in GF(256) on a small dense system; returns the
    /// slot holding the solution of each column, or nil if the rank is short.
    static func solveDense(_ rows: inout [[UInt8]], slots: [Int32], builder: inout SymbolProgramBuilder) -> [Int32]? {
        guard let width = rows.first?.count else { return [] }
        var isPivot = [Bool](repeating: false, count: rows.count)
        var solution = [Int32](repeating: -1, count: width)
        for column in 0..<width {
            // Prefer a row whose entry is already 1: no scaling needed.
            var pivot = -1
            for r in rows.indices where !isPivot[r] && rows[r][column] != 0 {
                if pivot < 0 || rows[r][column] == 1 { pivot = r }
                if rows[r][column] == 1 { break }
            }
            guard pivot >= 0 else { return nil }
            isPivot[pivot] = true
            let value = rows[pivot][column]
            if value != 1 {
                let inverse = GF256.inverse(value)
                for k in column..<width { rows[pivot][k] = GF256.multiply(rows[pivot][k], inverse) }
                builder.scale(slots[pivot], inverse)
            }
            for r in rows.indices where r != pivot && rows[r][column] != 0 {
                let coefficient = rows[r][column]
                for k in column..<width where rows[pivot][k] != 0 {
                    rows[r][k] ^= GF256.multiply(coefficient, rows[pivot][k])
                }
                builder.mulAdd(slots[r], slots[pivot], coefficient)
            }
            solution[column] = slots[pivot]
        }
        return solution
    }
}
