/// Phase 1 of inactivation decoding (RFC 6330 §5.4.2.2), on the binary rows only
/// (HDPC rows are never chosen, see the errata note in BlockSolver).
///
/// Each step picks an unchosen row with the fewest ones among the still-active
/// columns V, solves one of those columns with it and inactivates the others.
/// Because the row that is chosen is only ever added to rows below it, a row's
/// part in V changes only by columns leaving V: so phase 1 is pure peeling on
/// the sparse graph, with degrees that only go down, and needs no row arithmetic.
/// The row choice follows the RFC: a degree-one row if any; at degree two, a row
/// from the largest connected component of the graph whose nodes are the
/// columns and whose edges are the degree-two rows; above that, the row of
/// least original degree.
struct PeelingResult {
    /// Chosen rows in order of choice, and the column each one solves.
    var pivotRows: [Int32] = []
    var pivotColumns: [Int32] = []
    /// Inactive columns: the PI columns, then those inactivated, in order.
    var inactiveColumns: [Int32] = []
    /// Per column: the step that solved it (≥ 0), or -1 - (its index among inactive columns).
    var columnRole: [Int32] = []
    /// Rows never chosen; they go on to phase 2.
    var lowerRows: [Int32] = []

    var inactiveCount: Int { inactiveColumns.count }

    @inline(__always)
    func inactiveIndex(ofColumn c: Int) -> Int? {
        let role = columnRole[c]
        return role < 0 ? Int(-1 - role) : nil
    }
}

struct InactivationPeeling {
    private let graph: ConstraintGraph
    private var degree: [Int32]
    private var originalDegree: [Int32]
    private var chosen: [Bool]
    private var state: [UInt8]          // 0 active, 1 solved, 2 inactive
    // Rows bucketed by current degree in doubly linked lists.
    private var head: [Int32]
    private var next: [Int32]
    private var previous: [Int32]
    // Union-find over columns for the degree-two component rule.
    private var parent: [Int32]
    private var componentSize: [Int32]
    private var stamp: [Int32]
    private var currentStamp: Int32 = 0
    private var result = PeelingResult()

    private static let active: UInt8 = 0, solved: UInt8 = 1, inactive: UInt8 = 2

    /// Runs phase 1. Columns at and after `firstInactiveColumn` (the PI columns) start inactive.
    static func run(_ graph: ConstraintGraph, firstInactiveColumn: Int) -> PeelingResult {
        var peeling = InactivationPeeling(graph: graph, firstInactiveColumn: firstInactiveColumn)
        peeling.peel(activeColumns: firstInactiveColumn)
        return peeling.result
    }

    private init(graph: ConstraintGraph, firstInactiveColumn: Int) {
        self.graph = graph
        let rowCount = graph.rowCount
        degree = [Int32](repeating: 0, count: rowCount)
        originalDegree = [Int32](repeating: 0, count: rowCount)
        chosen = [Bool](repeating: false, count: rowCount)
        state = [UInt8](repeating: Self.active, count: graph.columnCount)
        next = [Int32](repeating: -1, count: rowCount)
        previous = [Int32](repeating: -1, count: rowCount)
        parent = [Int32](repeating: 0, count: graph.columnCount)
        componentSize = [Int32](repeating: 0, count: graph.columnCount)
        stamp = [Int32](repeating: 0, count: graph.columnCount)
        result.columnRole = [Int32](repeating: 0, count: graph.columnCount)
        head = []
        for c in firstInactiveColumn..<graph.columnCount { markInactive(c) }
        var maxDegree: Int32 = 1
        for r in 0..<rowCount {
            var count: Int32 = 0
            for k in graph.rowRange(r) where Int(graph.columns[k]) < firstInactiveColumn { count += 1 }
            degree[r] = count
            originalDegree[r] = Int32(graph.rowRange(r).count)
            maxDegree = max(maxDegree, count)
        }
        head = [Int32](repeating: -1, count: Int(maxDegree) + 1)
        for r in stride(from: rowCount - 1, through: 0, by: -1) { link(r) }
    }

    private mutating func markInactive(_ c: Int) {
        state[c] = Self.inactive
        result.columnRole[c] = -1 - Int32(result.inactiveColumns.count)
        result.inactiveColumns.append(Int32(c))
    }

    @inline(__always)
    private mutating func link(_ r: Int) {
        let d = Int(degree[r])
        let first = head[d]
        next[r] = first
        previous[r] = -1
        if first >= 0 { previous[Int(first)] = Int32(r) }
        head[d] = Int32(r)
    }

    @inline(__always)
    private mutating func unlink(_ r: Int) {
        let before = previous[r], after = next[r]
        if before >= 0 { next[Int(before)] = after } else { head[Int(degree[r])] = after }
        if after >= 0 { previous[Int(after)] = before }
    }

    /// Takes column c out of V: every unchosen row containing it loses one degree.
    private mutating func leaveV(_ c: Int) {
        for k in graph.columnRange(c) {
            let r = Int(graph.rows[k])
            if chosen[r] { continue }
            unlink(r)
            degree[r] -= 1
            link(r)
        }
    }

    private func activeColumns(of r: Int) -> [Int] {
        var found: [Int] = []
        for k in graph.rowRange(r) {
            let c = Int(graph.columns[k])
            if state[c] == Self.active { found.append(c) }
        }
        return found
    }

    private mutating func peel(activeColumns activeCount: Int) {
        var remaining = activeCount
        while remaining > 0 {
            var row: Int
            if head[1] >= 0 {
                row = Int(head[1])
            } else {
                var d = 2
                while d < head.count && head[d] < 0 { d += 1 }
                if d == head.count {
                    // No row reaches the active columns: leave them all to phase 2.
                    for c in 0..<state.count where state[c] == Self.active { markInactive(c) }
                    break
                }
                row = d == 2 ? rowInLargestComponent() : rowOfLeastOriginalDegree(d)
            }
            let columns = activeColumns(of: row)
            unlink(row)
            chosen[row] = true
            // Solve the first column, inactivate the rest.
            for c in columns.dropFirst() {
                markInactive(c)
                leaveV(c)
            }
            let pivot = columns[0]
            state[pivot] = Self.solved
            result.columnRole[pivot] = Int32(result.pivotRows.count)
            result.pivotRows.append(Int32(row))
            result.pivotColumns.append(Int32(pivot))
            leaveV(pivot)
            remaining -= columns.count
        }
        for r in 0..<graph.rowCount where !chosen[r] { result.lowerRows.append(Int32(r)) }
    }

    private mutating func rowOfLeastOriginalDegree(_ d: Int) -> Int {
        var best = Int(head[d])
        var r = best
        while r >= 0 {
            if originalDegree[r] < originalDegree[best] { best = r }
            r = Int(next[r])
        }
        return best
    }

    @inline(__always)
    private mutating func find(_ c: Int) -> Int {
        if stamp[c] != currentStamp {
            stamp[c] = currentStamp
            parent[c] = Int32(c)
            componentSize[c] = 1
            return c
        }
        var root = c
        while Int(parent[root]) != root { root = Int(parent[root]) }
        var node = c
        while Int(parent[node]) != root {
            let up = Int(parent[node])
            parent[node] = Int32(root)
            node = up
        }
        return root
    }

    private mutating func rowInLargestComponent() -> Int {
        currentStamp += 1
        var bestRoot = -1
        var bestSize: Int32 = 0
        var r = Int(head[2])
        while r >= 0 {
            let pair = activeColumns(of: r)
            var x = find(pair[0]), y = find(pair[1])
            if x != y {
                if componentSize[x] < componentSize[y] { swap(&x, &y) }
                parent[y] = Int32(x)
                componentSize[x] += componentSize[y]
            }
            if componentSize[x] > bestSize {
                bestSize = componentSize[x]
                bestRoot = x
            }
            r = Int(next[r])
        }
        r = Int(head[2])
        while r >= 0 {
            if find(activeColumns(of: r)[0]) == bestRoot { return r }
            r = Int(next[r])
        }
        return Int(head[2])
    }
}
