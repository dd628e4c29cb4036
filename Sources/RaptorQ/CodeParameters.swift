/// Everything RFC 6330 derives from the number of source symbols K of a block
/// (§5.3.3.3): the extended size K', the LDPC/HDPC/LT/PI symbol counts and P1.
/// Intermediate symbols are indexed 0..<L: the W LT symbols first (of which the
/// last S, B..<W, are the LDPC symbols), then the P permanently inactive (PI)
/// symbols W..<L, whose last H (K'+S..<L) are the HDPC symbols.
public struct CodeParameters: Hashable, Sendable {
    /// K: source symbols in the block.
    public let sourceSymbols: Int
    /// K': the extended block size (K plus zero padding symbols).
    public let extendedSymbols: Int
    let systematicIndex: Int
    /// S: LDPC symbols.
    public let ldpcSymbols: Int
    /// H: HDPC symbols.
    public let hdpcSymbols: Int
    /// W: LT symbols.
    public let ltSymbols: Int
    /// P1: the smallest prime ≥ P.
    let p1: Int

    /// L = K' + S + H: intermediate symbols.
    public var intermediateSymbols: Int { extendedSymbols + ldpcSymbols + hdpcSymbols }
    /// P = L - W: permanently inactivated symbols.
    public var piSymbols: Int { intermediateSymbols - ltSymbols }
    /// B = W - S: LT symbols that are not LDPC symbols.
    var nonLDPCLTSymbols: Int { ltSymbols - ldpcSymbols }
    /// First HDPC intermediate symbol: K' + S.
    var firstHDPCSymbol: Int { extendedSymbols + ldpcSymbols }

    /// Parameters for a block of `sourceSymbols` symbols (1...56,403).
    public init(sourceSymbols: Int) throws(RaptorQError) {
        guard let row = SystematicIndexTable.row(forSourceSymbols: sourceSymbols) else {
            throw .invalidParameters("a source block holds 1 to \(SystematicIndexTable.maxSourceSymbols) symbols, not \(sourceSymbols)")
        }
        self.sourceSymbols = sourceSymbols
        extendedSymbols = row.extendedSymbols
        systematicIndex = row.systematicIndex
        ldpcSymbols = row.ldpcSymbols
        hdpcSymbols = row.hdpcSymbols
        ltSymbols = row.ltSymbols
        let pi = row.extendedSymbols + row.ldpcSymbols + row.hdpcSymbols - row.ltSymbols
        var candidate = pi
        while !Self.isPrime(candidate) { candidate += 1 }
        p1 = candidate
    }

    /// The internal symbol ID of an encoding symbol ID (§5.3.1): repair symbols
    /// skip the K' - K padding symbols.
    @inline(__always)
    public func internalSymbolID(forESI esi: UInt32) -> UInt32 {
        esi < UInt32(sourceSymbols) ? esi : esi + UInt32(extendedSymbols - sourceSymbols)
    }

    static func isPrime(_ n: Int) -> Bool {
        if n < 2 { return false }
        var divisor = 2
        while divisor * divisor <= n {
            if n % divisor == 0 { return false }
            divisor += 1
        }
        return true
    }
}
