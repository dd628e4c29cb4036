/// Rows of bits packed into 64-bit words: the GF(2) part of the solver's
/// matrices (coefficients over the inactive columns). A class over raw memory:
/// these rows are added to each other once per edge of the constraint graph,
/// so copy-on-write checks would cost more than the additions.
final class BitRows {
    let wordsPerRow: Int
    private(set) var rowCount: Int
    private var capacity: Int
    private(set) var words: UnsafeMutablePointer<UInt64>

    init(rows: Int, bits: Int) {
        wordsPerRow = max(1, (bits + 63) / 64)
        rowCount = rows
        capacity = max(rows, 4)
        words = .allocate(capacity: capacity * wordsPerRow)
        words.initialize(repeating: 0, count: capacity * wordsPerRow)
    }

    deinit { words.deallocate() }

    /// Adds an all-zero row and returns its index.
    func appendRow() -> Int {
        if rowCount == capacity {
            let bigger = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * capacity * wordsPerRow)
            bigger.initialize(from: words, count: capacity * wordsPerRow)
            (bigger + capacity * wordsPerRow).initialize(repeating: 0, count: capacity * wordsPerRow)
            words.deallocate()
            words = bigger
            capacity *= 2
        }
        rowCount += 1
        return rowCount - 1
    }

    func removeLastRow() {
        rowCount -= 1
        (words + rowCount * wordsPerRow).update(repeating: 0, count: wordsPerRow)
    }

    /// The words of `row`.
    @inline(__always)
    func row(_ row: Int) -> UnsafeMutablePointer<UInt64> { words + row * wordsPerRow }

    @inline(__always)
    func bit(_ row: Int, _ column: Int) -> Bool {
        words[row * wordsPerRow + column >> 6] >> UInt64(column & 63) & 1 != 0
    }

    @inline(__always)
    func flip(_ row: Int, _ column: Int) {
        words[row * wordsPerRow + column >> 6] ^= 1 << UInt64(column & 63)
    }

    /// row[target] ^= row[source]
    @inline(__always)
    func add(_ source: Int, into target: Int) {
        let s = row(source), t = row(target)
        for w in 0..<wordsPerRow { t[w] ^= s[w] }
    }

    /// row[target] ^= other's row[source] (same width).
    @inline(__always)
    func add(_ source: Int, of other: BitRows, into target: Int) {
        let s = other.row(source), t = row(target)
        for w in 0..<wordsPerRow { t[w] ^= s[w] }
    }

    func isZero(_ row: Int) -> Bool {
        let r = self.row(row)
        for w in 0..<wordsPerRow where r[w] != 0 { return false }
        return true
    }

    func popCount(_ row: Int) -> Int {
        let r = self.row(row)
        var count = 0
        for w in 0..<wordsPerRow { count += r[w].nonzeroBitCount }
        return count
    }

    /// Calls `body` with the index of each set bit of `row`, in increasing order.
    @inline(__always)
    func forEachSetBit(_ row: Int, _ body: (Int) -> Void) {
        let r = self.row(row)
        for w in 0..<wordsPerRow {
            var word = r[w]
            while word != 0 {
                body(w * 64 + word.trailingZeroBitCount)
                word &= word - 1
            }
        }
    }
}
