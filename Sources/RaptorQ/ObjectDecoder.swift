/// A received encoding symbol of an object: its ESI and T bytes somewhere in memory.
public struct ReceivedSymbol {
    public let esi: UInt32
    public let data: UnsafeRawPointer

    public init(esi: UInt32, data: UnsafeRawPointer) {
        self.esi = esi
        self.data = data
    }
}

/// Decodes a whole object (RFC 6330 §4.4.1) block by block: one plan per block,
/// run sub-block by sub-block, reading the received symbols where they lie and
/// writing the recovered bytes straight into the object.
public struct ObjectDecoder: Sendable {
    public let layout: ObjectLayout
    public var oti: ObjectTransmissionInformation { layout.oti }

    public init(_ oti: ObjectTransmissionInformation) { layout = ObjectLayout(oti) }

    /// Rebuilds block z of `object` (the whole object, F bytes; only block z's
    /// bytes are written) from `symbols` (any order; later duplicates ignored).
    /// After each sub-block, `progress` learns how many of the block's bytes are
    /// done and may return false to stop (`RaptorQError.cancelled`).
    public func decodeBlock(_ z: Int, symbols: [ReceivedSymbol], into object: UnsafeMutableRawBufferPointer,
                            progress: ((Int) -> Bool)? = nil) throws(RaptorQError) {
        guard object.count == Int(oti.transferLength) else {
            throw .invalidParameters("object of \(object.count) bytes, OTI says \(oti.transferLength)")
        }
        guard z >= 0, z < layout.blockCount else { throw .invalidParameters("no source block \(z)") }
        let k = layout.sourceSymbols(inBlock: z)
        var seen = Set<UInt32>()
        let distinct = symbols.filter { $0.esi < 1 << 24 && seen.insert($0.esi).inserted }
        guard distinct.count >= k else {
            throw .notEnoughSymbols("block \(z) has \(distinct.count) distinct symbols, needs at least \(k)")
        }
        var sourceData = [UnsafeRawPointer?](repeating: nil, count: k)
        for symbol in distinct where symbol.esi < UInt32(k) { sourceData[Int(symbol.esi)] = symbol.data }
        let missing = (0..<k).filter { sourceData[$0] == nil }
        let output = BlockRegion(layout: layout, block: z, object: object.baseAddress)
        for (x, data) in sourceData.enumerated() {
            guard let data else { continue }
            for j in layout.subSymbolSizes.indices {
                output.store(subBlock: j, symbol: x, from: data + layout.subSymbolOffsets[j])
            }
        }
        guard !missing.isEmpty else { return }
        let parameters = try CodeParameters(sourceSymbols: k)
        guard let plan = DecodingPlan(parameters: parameters, receivedESIs: distinct.map(\.esi), missing: missing,
                                      symbolSize: oti.symbolSize) else {
            throw .notEnoughSymbols("the \(distinct.count) symbols of block \(z) do not determine it; more are needed")
        }
        let maxSubSymbol = layout.subSymbolSizes.max() ?? oti.symbolSize
        let work = BufferPool.shared.take(byteCount: plan.workSymbols * maxSubSymbol)
        defer { BufferPool.shared.give(work) }
        let workBase = work.baseAddress!.assumingMemoryBound(to: UInt8.self)
        for j in layout.subSymbolSizes.indices {
            let size = layout.subSymbolSizes[j]
            let offset = layout.subSymbolOffsets[j]
            plan.run(received: { UnsafeMutablePointer(mutating: (distinct[$0].data + offset).assumingMemoryBound(to: UInt8.self)) },
                     output: { output.target(subBlock: j, symbol: missing[$0]) },
                     work: workBase, workStride: size, length: size)
            for x in missing { output.finish(subBlock: j, symbol: x) }
            if let progress, !progress(k * (offset + size)) { throw .cancelled }
        }
    }
}
