/// Rows of bits packed into 64-bit words: the GF(2) part of the solver's
/// dense matrices (coefficients over the inactive columns).
struct BitRows {
    let wordsPerRow: Int
    private(set) var rowCount: Int
    var storage: [UInt64]

    init(rows: Int, bits: Int) {
        wordsPerRow = max(1, (bits + 63) / 64)
        rowCount = rows
        storage = [UInt64](repeating: 0, count: rows * wordsPerRow)
    }

    /// Adds an all-zero row and returns its index.
    mutating func appendRow() -> Int {
        storage.append(contentsOf: repeatElement(0, count: wordsPerRow))
        rowCount += 1
        return rowCount - 1
    }

    mutating func removeLastRow() {
        storage.removeLast(wordsPerRow)
        rowCount -= 1
    }

    @inline(__always)
    func bit(_ row: Int, _ column: Int) -> Bool {
        storage[row * wordsPerRow + column >> 6] >> UInt64(column & 63) & 1 != 0
    }

    @inline(__always)
    mutating func flip(_ row: Int, _ column: Int) {
        storage[row * wordsPerRow + column >> 6] ^= 1 << UInt64(column & 63)
    }

    /// row[target] ^= row[source]
    @inline(__always)
    mutating func add(_ source: Int, into target: Int) {
        let words = wordsPerRow
        storage.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let s = base + source * words, t = base + target * words
            for w in 0..<words { t[w] ^= s[w] }
        }
    }

    /// row[target] ^= other's row[source] (same width).
    @inline(__always)
    mutating func add(_ source: Int, of other: BitRows, into target: Int) {
        let words = wordsPerRow
        storage.withUnsafeMutableBufferPointer { buffer in
            other.storage.withUnsafeBufferPointer { otherBuffer in
                let s = otherBuffer.baseAddress! + source * words, t = buffer.baseAddress! + target * words
                for w in 0..<words { t[w] ^= s[w] }
            }
        }
    }

    func isZero(_ row: Int) -> Bool {
        let base = row * wordsPerRow
        for w in 0..<wordsPerRow where storage[base + w] != 0 { return false }
        return true
    }

    func popCount(_ row: Int) -> Int {
        var count = 0
        let base = row * wordsPerRow
        for w in 0..<wordsPerRow { count += storage[base + w].nonzeroBitCount }
        return count
    }

    /// Calls `body` with the index of each set bit of `row`, in increasing order.
    @inline(__always)
    func forEachSetBit(_ row: Int, _ body: (Int) -> Void) {
        let base = row * wordsPerRow
        for w in 0..<wordsPerRow {
            var word = storage[base + w]
            while word != 0 {
                body(w * 64 + word.trailingZeroBitCount)
                word &= word - 1
            }
        }
    }
}
