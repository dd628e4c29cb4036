/// RFC 6330 §5.6, Table 2: the parameters of each supported extended block size K'.
/// A block of K source symbols is extended with zero padding to the smallest K' ≥ K
/// in the table; everything else about the code follows from K'.
enum SystematicIndexTable {
    struct Row: Equatable, Sendable {
        /// K': extended source block size in symbols.
        let extendedSymbols: Int
        /// J(K'): the systematic index, which makes the encoding matrix invertible.
        let systematicIndex: Int
        /// S(K'): number of LDPC symbols (prime).
        let ldpcSymbols: Int
        /// H(K'): number of HDPC symbols.
        let hdpcSymbols: Int
        /// W(K'): number of LT symbols (prime).
        let ltSymbols: Int
    }

    /// K'_max (§5.1.2): the largest number of source symbols in one block.
    static let maxSourceSymbols = 56403

    static let rowCount = flatRows.count / 5

    static func row(at index: Int) -> Row {
        let base = index * 5
        return Row(extendedSymbols: Int(flatRows[base]), systematicIndex: Int(flatRows[base + 1]),
                   ldpcSymbols: Int(flatRows[base + 2]), hdpcSymbols: Int(flatRows[base + 3]),
                   ltSymbols: Int(flatRows[base + 4]))
    }

    /// The row of the smallest K' ≥ `sourceSymbols`, or nil outside 1...K'_max.
    static func row(forSourceSymbols sourceSymbols: Int) -> Row? {
        guard sourceSymbols >= 1, sourceSymbols <= maxSourceSymbols else { return nil }
        var low = 0
        var high = rowCount - 1
        while low < high {
            let middle = (low + high) / 2
            if Int(flatRows[middle * 5]) >= sourceSymbols { high = middle } else { low = middle + 1 }
        }
        return row(at: low)
    }
}
