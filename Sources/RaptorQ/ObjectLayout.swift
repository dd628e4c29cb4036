/// Where each byte of an object goes (RFC 6330 §4.4.1.2). The object is cut into
/// Z source blocks of KL or KS symbols (the last block padded with zeros); a
/// block of K symbols is cut into N contiguous sub-blocks, sub-block j holding K
/// sub-symbols of T_j bytes (TL·Al or TS·Al); encoding symbol X of the block is
/// the concatenation of sub-symbol X of every sub-block.
///
/// RaptorQ works byte-position by byte-position, so each sub-block is simply
/// encoded or decoded with the block's one plan on sub-symbols of T_j bytes.
public struct ObjectLayout: Sendable {
    public let oti: ObjectTransmissionInformation
    private let largeBlockSymbols: Int
    private let smallBlockSymbols: Int
    private let largeBlocks: Int
    /// T_j for each sub-block j.
    public let subSymbolSizes: [Int]
    /// Offset of sub-symbol j inside an encoding symbol: Σ_{i<j} T_i.
    public let subSymbolOffsets: [Int]

    public init(_ oti: ObjectTransmissionInformation) {
        self.oti = oti
        let t = UInt64(oti.symbolSize)
        let kt = Int((oti.transferLength + t - 1) / t)
        if oti.sourceBlocks > 0 {
            (largeBlockSymbols, smallBlockSymbols, largeBlocks, _) = Self.partition(kt, oti.sourceBlocks)
        } else {
            (largeBlockSymbols, smallBlockSymbols, largeBlocks) = (0, 0, 0)
        }
        let (tl, ts, nl, _) = Self.partition(oti.symbolSize / oti.alignment, oti.subBlocks)
        subSymbolSizes = (0..<oti.subBlocks).map { ($0 < nl ? tl : ts) * oti.alignment }
        var offsets: [Int] = []
        var total = 0
        for size in subSymbolSizes {
            offsets.append(total)
            total += size
        }
        subSymbolOffsets = offsets
    }

    /// Partition[I, J] (§4.4.1.2): I split into J parts, JL of IL and JS of IS.
    static func partition(_ i: Int, _ j: Int) -> (il: Int, is: Int, jl: Int, js: Int) {
        let il = (i + j - 1) / j
        let small = i / j
        let jl = i - small * j
        return (il, small, jl, j - jl)
    }

    public var blockCount: Int { oti.sourceBlocks }
    public var symbolSize: Int { oti.symbolSize }

    /// K of block z.
    public func sourceSymbols(inBlock z: Int) -> Int { z < largeBlocks ? largeBlockSymbols : smallBlockSymbols }

    /// Offset of block z in the object.
    public func blockOffset(_ z: Int) -> Int {
        let large = min(z, largeBlocks)
        return (large * largeBlockSymbols + (z - large) * smallBlockSymbols) * oti.symbolSize
    }

    /// Bytes of block z inside the object (the last block may end early).
    public func blockLength(_ z: Int) -> Int {
        min(sourceSymbols(inBlock: z) * oti.symbolSize, Int(oti.transferLength) - blockOffset(z))
    }

    /// Offset, inside block z, of sub-symbol X of sub-block j.
    @inline(__always)
    func subSymbolOffset(inBlockOf k: Int, subBlock j: Int, symbol x: Int) -> Int {
        k * subSymbolOffsets[j] + x * subSymbolSizes[j]
    }
}
