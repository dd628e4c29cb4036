/// Phase 2 (§5.4.2.3): the rows left after peeling, as equations over the u
/// inactive symbols only. The elimination runs in the matrix domain; every
/// solved symbol is then written once, as a sum over the rows' original
/// right-hand sides, instead of mirroring each row operation on symbols.
///
/// Binary rows are eliminated first (Gauss–Jordan over GF(2), tracking which
/// original rows each row has become the sum of). The columns no binary row
/// can solve are solved in GF(256) with the HDPC rows (and binary rows left
/// over), by inverting that small system.
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
        // combination[r]: the original binary rows that row r is now the sum of.
        let combination = BitRows(rows: binaryCount, bits: binaryCount)
        for r in 0..<binaryCount { combination.flip(r, r) }
        var pivotOfColumn = [Int](repeating: -1, count: u)
        var isPivot = [Bool](repeating: false, count: binaryCount)
        var deferred: [Int] = []

        // Binary Gauss–Jordan, in the matrix domain only.
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
                combination.add(pivot, into: r)
            }
        }

        // The system over the deferred columns. Each of its rows is a GF(256)
        // combination of original right-hand sides: the HDPC rows with the binary
        // pivots substituted, and the binary rows that solved nothing.
        var rows: [[UInt8]] = []              // coefficients over the deferred columns
        var values: [[(Int32, UInt8)]] = []   // the row's value, as terms over original slots
        for (index, full) in hdpcRows.enumerated() {
            var row = deferred.map { full[$0] }
            var weights = [UInt8](repeating: 0, count: binaryCount)
            for column in 0..<u {
                let pivot = pivotOfColumn[column]
                let coefficient = full[column]
                guard pivot >= 0, coefficient != 0 else { continue }
                combination.forEachSetBit(pivot) { weights[$0] ^= coefficient }
                for (q, deferredColumn) in deferred.enumerated() where binary.bit(pivot, deferredColumn) {
                    row[q] ^= coefficient
                }
            }
            var terms: [(Int32, UInt8)] = [(hdpcSlots[index], 1)]
            for (s, weight) in weights.enumerated() where weight != 0 { terms.append((binarySlots[s], weight)) }
            rows.append(row)
            values.append(terms)
        }
        for r in 0..<binaryCount where !isPivot[r] {
            let row = deferred.map { binary.bit(r, $0) ? UInt8(1) : 0 }
            guard row.contains(where: { $0 != 0 }) else { continue }
            var terms: [(Int32, UInt8)] = []
            combination.forEachSetBit(r) { terms.append((binarySlots[$0], 1)) }
            rows.append(row)
            values.append(terms)
        }
        guard let inverse = Self.leftInverse(rows, width: deferred.count) else { return nil }

        // Each deferred symbol: Σ inverse[q][i] · value_i, gathered over original slots.
        var result = [Int32](repeating: -1, count: u)
        var deferredSlots: [Int32] = []
        for q in deferred.indices {
            var gathered: [Int32: UInt8] = [:]
            for (i, factor) in inverse[q].enumerated() where factor != 0 {
                for (slot, weight) in values[i] {
                    gathered[slot, default: 0] ^= GF256.multiply(factor, weight)
                }
            }
            let slot = builder.newSlot()
            builder.assignLinearCombination(slot, gathered.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            deferredSlots.append(slot)
            result[deferred[q]] = slot
        }
        // Each binary pivot: the sum of its original rows and of the deferred
        // symbols left in its row.
        for column in 0..<u where pivotOfColumn[column] >= 0 {
            let pivot = pivotOfColumn[column]
            var terms: [Int32] = []
            combination.forEachSetBit(pivot) { terms.append(binarySlots[$0]) }
            for (q, deferredColumn) in deferred.enumerated() where binary.bit(pivot, deferredColumn) {
                terms.append(deferredSlots[q])
            }
            let slot = builder.newSlot()
            builder.assignSum(slot, terms)
            result[column] = slot
        }
        return result
    }

    /// For rows × width coefficients of full column rank, a width × rows matrix
    /// M with M·rows = identity (Gauss–Jordan on [rows | I]); nil if the rank is short.
    static func leftInverse(_ rows: [[UInt8]], width: Int) -> [[UInt8]]? {
        let count = rows.count
        guard count >= width else { return width == 0 ? [] : nil }
        var a = rows
        var track = (0..<count).map { r in (0..<count).map { $0 == r ? UInt8(1) : 0 } }
        var pivotRow = [Int](repeating: -1, count: width)
        var used = [Bool](repeating: false, count: count)
        for column in 0..<width {
            guard let pivot = (0..<count).first(where: { !used[$0] && a[$0][column] != 0 }) else { return nil }
            used[pivot] = true
            pivotRow[column] = pivot
            let inverse = GF256.inverse(a[pivot][column])
            if inverse != 1 {
                for k in 0..<width { a[pivot][k] = GF256.multiply(a[pivot][k], inverse) }
                for k in 0..<count { track[pivot][k] = GF256.multiply(track[pivot][k], inverse) }
            }
            for r in 0..<count where r != pivot && a[r][column] != 0 {
                let factor = a[r][column]
                for k in 0..<width where a[pivot][k] != 0 { a[r][k] ^= GF256.multiply(factor, a[pivot][k]) }
                for k in 0..<count where track[pivot][k] != 0 { track[r][k] ^= GF256.multiply(factor, track[pivot][k]) }
            }
        }
        return pivotRow.map { track[$0] }
    }
}
