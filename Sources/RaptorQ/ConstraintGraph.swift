/// The binary rows of the constraint matrix (§5.3.3.4.2) as a sparse graph: the
/// S LDPC rows first, then one LT row per equation (encoding symbol). The HDPC
/// rows, the only ones with coefficients beyond 0 and 1, are handled apart.
/// Rows are stored by row (CSR) and by column (CSC).
struct ConstraintGraph {
    let rowCount: Int
    let columnCount: Int
    /// Row r's columns are columns[rowStart[r]..<rowStart[r+1]].
    private(set) var rowStart: [Int32]
    private(set) var columns: [Int32]
    /// Column c's rows are rows[columnStart[c]..<columnStart[c+1]].
    private(set) var columnStart: [Int32]
    private(set) var rows: [Int32]

    /// Builds the LDPC rows of `p` and the LT rows of the given internal symbol IDs.
    init(parameters p: CodeParameters, isis: [UInt32]) {
        let s = p.ldpcSymbols
        let b = p.nonLDPCLTSymbols
        let w = p.ltSymbols
        let pi = p.piSymbols
        rowCount = s + isis.count
        columnCount = p.intermediateSymbols

        // LDPC rows: count first, then fill, to build CSR directly.
        var ldpcLength = [Int32](repeating: 3, count: s) // I_S plus two PI columns
        for i in 0..<b {
            let a = 1 + i / s
            var row = i % s
            for _ in 0..<3 {
                ldpcLength[row] += 1
                row = (row + a) % s
            }
        }
        var tuples: [EncodingTuple] = []
        tuples.reserveCapacity(isis.count)
        var start = [Int32](repeating: 0, count: rowCount + 1)
        for r in 0..<s { start[r + 1] = start[r] + ldpcLength[r] }
        for (index, isi) in isis.enumerated() {
            let tuple = EncodingTuple(isi: isi, parameters: p)
            tuples.append(tuple)
            start[s + index + 1] = start[s + index] + Int32(tuple.columnCount)
        }
        var cols = [Int32](repeating: 0, count: Int(start[rowCount]))
        var fill = Array(start.prefix(rowCount))
        for i in 0..<b {
            let a = 1 + i / s
            var row = i % s
            for _ in 0..<3 {
                cols[Int(fill[row])] = Int32(i)
                fill[row] += 1
                row = (row + a) % s
            }
        }
        for i in 0..<s {
            for column in [b + i, w + i % pi, w + (i + 1) % pi] {
                cols[Int(fill[i])] = Int32(column)
                fill[i] += 1
            }
        }
        for (index, tuple) in tuples.enumerated() {
            let row = s + index
            tuple.forEachColumn(p) { column in
                cols[Int(fill[row])] = Int32(column)
                fill[row] += 1
            }
        }
        rowStart = start
        columns = cols

        // Transpose into CSC.
        var columnCounts = [Int32](repeating: 0, count: columnCount + 1)
        for column in cols { columnCounts[Int(column) + 1] += 1 }
        for c in 0..<columnCount { columnCounts[c + 1] += columnCounts[c] }
        columnStart = columnCounts
        var columnFill = Array(columnCounts.prefix(columnCount))
        var transposed = [Int32](repeating: 0, count: cols.count)
        for r in 0..<rowCount {
            for k in Int(start[r])..<Int(start[r + 1]) {
                let column = Int(cols[k])
                transposed[Int(columnFill[column])] = Int32(r)
                columnFill[column] += 1
            }
        }
        rows = transposed
    }

    @inline(__always)
    func rowRange(_ r: Int) -> Range<Int> { Int(rowStart[r])..<Int(rowStart[r + 1]) }
}
