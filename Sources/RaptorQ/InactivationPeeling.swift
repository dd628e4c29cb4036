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

/// The peeling state lives in raw buffers: this loop runs over every edge of
/// the graph and is the solver's hottest part for large blocks.
final class InactivationPeeling {
    private let graph: ConstraintGraph
    private let rowCount: Int
    private let columnCount: Int
    private let rowStart: UnsafeMutableBufferPointer<Int32>
    private let columns: UnsafeMutableBufferPointer<Int32>
    private let columnStart: UnsafeMutableBufferPointer<Int32>
    private let rows: UnsafeMutableBufferPointer<Int32>
    private let degree: UnsafeMutableBufferPointer<Int32>
    private let originalDegree: UnsafeMutableBufferPointer<Int32>
    private let chosen: UnsafeMutableBufferPointer<Bool>
    /// Per row, the sum and the sum of squares of its active columns: a row of
    /// degree one names its column by the sum, a row of degree two its pair by
    /// both (a + b and a² + b²), without scanning the row.
    private let activeSum: UnsafeMutableBufferPointer<Int64>
    private let activeSquares: UnsafeMutableBufferPointer<Int64>
    /// 0 active, 1 solved, 2 inactive.
    private let state: UnsafeMutableBufferPointer<UInt8>
    // Rows bucketed by current degree in doubly linked lists.
    private var head: UnsafeMutableBufferPointer<Int32>
    private let next: UnsafeMutableBufferPointer<Int32>
    private let previous: UnsafeMutableBufferPointer<Int32>
    // Union-find over columns for the degree-two component rule.
    private let parent: UnsafeMutableBufferPointer<Int32>
    private let componentSize: UnsafeMutableBufferPointer<Int32>
    private let stamp: UnsafeMutableBufferPointer<Int32>
    private var currentStamp: Int32 = 0
    // The degree-two components of the last full computation, largest first,
    // with their rows; served in order until stale (see rowInLargestComponent).
    private var componentOrder: [Int32] = []
    private var componentRowStart: [Int32] = []
    private var componentRows: [Int32] = []
    private var componentCursor = 0
    private var degreeTwoArrivals = 0
    private var arrivalsAllowed = 0
    private var result = PeelingResult()

    private static let active: UInt8 = 0, solved: UInt8 = 1, inactive: UInt8 = 2

    /// Runs phase 1. Columns at and after `firstInactiveColumn` (the PI columns) start inactive.
    static func run(_ graph: ConstraintGraph, firstInactiveColumn: Int) -> PeelingResult {
        let peeling = InactivationPeeling(graph: graph, firstInactiveColumn: firstInactiveColumn)
        peeling.peel(activeColumns: firstInactiveColumn)
        return peeling.result
    }

    private static func buffer<T>(_ count: Int, _ value: T) -> UnsafeMutableBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(count, 1))
        buffer.initialize(repeating: value)
        return buffer
    }

    private static func copy(_ array: [Int32]) -> UnsafeMutableBufferPointer<Int32> {
        let buffer = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(array.count, 1))
        _ = buffer.initialize(from: array)
        return buffer
    }

    private init(graph: ConstraintGraph, firstInactiveColumn: Int) {
        self.graph = graph
        rowCount = graph.rowCount
        columnCount = graph.columnCount
        rowStart = Self.copy(graph.rowStart)
        columns = Self.copy(graph.columns)
        columnStart = Self.copy(graph.columnStart)
        rows = Self.copy(graph.rows)
        degree = Self.buffer(rowCount, 0)
        originalDegree = Self.buffer(rowCount, 0)
        chosen = Self.buffer(rowCount, false)
        activeSum = Self.buffer(rowCount, 0)
        activeSquares = Self.buffer(rowCount, 0)
        state = Self.buffer(columnCount, Self.active)
        next = Self.buffer(rowCount, -1)
        previous = Self.buffer(rowCount, -1)
        parent = Self.buffer(columnCount, 0)
        componentSize = Self.buffer(columnCount, 0)
        stamp = Self.buffer(columnCount, 0)
        head = Self.buffer(1, -1)
        result.columnRole = [Int32](repeating: 0, count: columnCount)
        result.pivotRows.reserveCapacity(rowCount)
        result.pivotColumns.reserveCapacity(rowCount)
        for c in firstInactiveColumn..<columnCount { markInactive(c) }
        var maxDegree: Int32 = 1
        for r in 0..<rowCount {
            var count: Int32 = 0
            for k in Int(rowStart[r])..<Int(rowStart[r + 1]) where Int(columns[k]) < firstInactiveColumn {
                count += 1
                let c = Int64(columns[k])
                activeSum[r] += c
                activeSquares[r] += c * c
            }
            degree[r] = count
            originalDegree[r] = rowStart[r + 1] - rowStart[r]
            maxDegree = max(maxDegree, count)
        }
        head.deallocate()
        head = Self.buffer(Int(maxDegree) + 1, -1)
        for r in stride(from: rowCount - 1, through: 0, by: -1) { link(r) }
    }

    deinit {
        for buffer in [rowStart, columns, columnStart, rows, degree, originalDegree, next, previous, parent,
                       componentSize, stamp, head] { buffer.deallocate() }
        chosen.deallocate()
        state.deallocate()
        activeSum.deallocate()
        activeSquares.deallocate()
    }

    private func markInactive(_ c: Int) {
        state[c] = Self.inactive
        result.columnRole[c] = -1 - Int32(result.inactiveColumns.count)
        result.inactiveColumns.append(Int32(c))
    }

    @inline(__always)
    private func link(_ r: Int) {
        let d = Int(degree[r])
        let first = head[d]
        next[r] = first
        previous[r] = -1
        if first >= 0 { previous[Int(first)] = Int32(r) }
        head[d] = Int32(r)
    }

    @inline(__always)
    private func unlink(_ r: Int) {
        let before = previous[r], after = next[r]
        if before >= 0 { next[Int(before)] = after } else { head[Int(degree[r])] = after }
        if after >= 0 { previous[Int(after)] = before }
    }

    /// Takes column c out of V: every unchosen row containing it loses one degree.
    @inline(__always)
    private func leaveV(_ c: Int) {
        let column = Int64(c)
        for k in Int(columnStart[c])..<Int(columnStart[c + 1]) {
            let r = Int(rows[k])
            if chosen[r] { continue }
            unlink(r)
            degree[r] -= 1
            if degree[r] == 2 { degreeTwoArrivals += 1 }
            link(r)
            activeSum[r] -= column
            activeSquares[r] -= column * column
        }
    }

    private func peel(activeColumns activeCount: Int) {
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
                    for c in 0..<columnCount where state[c] == Self.active { markInactive(c) }
                    break
                }
                row = d == 2 ? rowInLargestComponent() : rowOfLeastOriginalDegree(d)
            }
            unlink(row)
            chosen[row] = true
            // Solve one active column, inactivate the others.
            let rowDegree = Int(degree[row])
            let pivot = rowDegree == 1 ? Int(activeSum[row]) : rowDegree == 2 ? activePair(of: row).0 : firstActiveColumn(of: row)
            state[pivot] = Self.solved
            if rowDegree > 1 {
                for k in Int(rowStart[row])..<Int(rowStart[row + 1]) {
                    let c = Int(columns[k])
                    guard state[c] == Self.active else { continue }
                    markInactive(c)
                    leaveV(c)
                }
            }
            result.columnRole[pivot] = Int32(result.pivotRows.count)
            result.pivotRows.append(Int32(row))
            result.pivotColumns.append(Int32(pivot))
            leaveV(pivot)
            remaining -= rowDegree
        }
        for r in 0..<rowCount where !chosen[r] { result.lowerRows.append(Int32(r)) }
    }

    private func rowOfLeastOriginalDegree(_ d: Int) -> Int {
        var best = Int(head[d])
        var r = best
        while r >= 0 {
            if originalDegree[r] < originalDegree[best] { best = r }
            r = Int(next[r])
        }
        return best
    }

    @inline(__always)
    private func find(_ c: Int) -> Int {
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

    /// The first active column of row r, by scanning it.
    private func firstActiveColumn(of r: Int) -> Int {
        for k in Int(rowStart[r])..<Int(rowStart[r + 1]) where state[Int(columns[k])] == Self.active {
            return Int(columns[k])
        }
        return -1
    }

    /// The two active columns of a degree-two row: from a + b = s and
    /// a² + b² = q, (b - a)² = 2q - s².
    @inline(__always)
    private func activePair(of r: Int) -> (Int, Int) {
        let s = activeSum[r], q = activeSquares[r]
        let difference = Self.squareRoot(2 * q - s * s)
        return (Int((s - difference) / 2), Int((s + difference) / 2))
    }

    /// ⌊√n⌋ for the perfect squares this is given, exact beyond Double's 53 bits.
    @inline(__always)
    private static func squareRoot(_ n: Int64) -> Int64 {
        var root = Int64(Double(n).squareRoot())
        while root * root > n { root -= 1 }
        while (root + 1) * (root + 1) <= n { root += 1 }
        return root
    }

    /// A degree-two row from the largest component of the degree-two graph.
    /// Finding the components costs a pass over all degree-two rows, and this is
    /// asked for at every inactivation; but between two asks mostly one
    /// component gets peeled away. So the components are computed once, sorted
    /// by size, and served in that order: a component is skipped once none of
    /// its rows is still of degree two, and everything is recomputed when the
    /// list runs out or when many rows have newly dropped to degree two (which
    /// can join components).
    private func rowInLargestComponent() -> Int {
        if degreeTwoArrivals > arrivalsAllowed { computeComponents() }
        while true {
            while componentCursor < componentOrder.count {
                let start = Int(componentRowStart[componentCursor]), end = Int(componentRowStart[componentCursor + 1])
                for k in start..<end {
                    let r = Int(componentRows[k])
                    if !chosen[r] && degree[r] == 2 { return r }
                }
                componentCursor += 1
            }
            if computeComponents() == 0 { return Int(head[2]) }
        }
    }

    /// Union-find over the degree-two rows; returns how many there are.
    @discardableResult
    private func computeComponents() -> Int {
        currentStamp += 1
        var rowsSeen: [Int32] = []
        var r = Int(head[2])
        while r >= 0 {
            let (a, b) = activePair(of: r)
            var x = find(a), y = find(b)
            if x != y {
                if componentSize[x] < componentSize[y] { swap(&x, &y) }
                parent[y] = Int32(x)
                componentSize[x] += componentSize[y]
            }
            rowsSeen.append(Int32(r))
            r = Int(next[r])
        }
        // Group the rows by component, components by decreasing size.
        var rowsByRoot: [Int32: [Int32]] = [:]
        for row in rowsSeen { rowsByRoot[Int32(find(activePair(of: Int(row)).0)), default: []].append(row) }
        let roots = rowsByRoot.keys.sorted { componentSize[Int($0)] > componentSize[Int($1)] || (componentSize[Int($0)] == componentSize[Int($1)] && $0 < $1) }
        componentOrder = roots
        componentRowStart = [0]
        componentRows.removeAll(keepingCapacity: true)
        for root in roots {
            componentRows.append(contentsOf: rowsByRoot[root]!)
            componentRowStart.append(Int32(componentRows.count))
        }
        componentCursor = 0
        degreeTwoArrivals = 0
        arrivalsAllowed = max(16, rowsSeen.count / 2)
        return rowsSeen.count
    }
}
