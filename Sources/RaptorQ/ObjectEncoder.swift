/// Encodes a whole object (RFC 6330 §4.4.1), block by block, sub-block by
/// sub-block: the working memory is one sub-block's intermediate symbols,
/// which the partitioning keeps near the OTI's working-memory target.
public struct ObjectEncoder: Sendable {
    public let layout: ObjectLayout
    public var oti: ObjectTransmissionInformation { layout.oti }
    public var packetSize: Int { PayloadID.encodedSize + oti.symbolSize }

    public init(_ oti: ObjectTransmissionInformation) { layout = ObjectLayout(oti) }

    /// Partitioning like the raptorq library's defaults for packets of `packetSize` bytes.
    public init(transferLength: Int, packetSize: Int) throws(RaptorQError) {
        self.init(try ObjectTransmissionInformation(transferLength: UInt64(transferLength), packetSize: packetSize))
    }

    /// Writes the packets of block z for `esis` (payload ID then T bytes each,
    /// back to back) into `packets`, which holds at least esis.count × packetSize
    /// bytes. `object` is the whole object (F bytes). After each sub-block,
    /// `progress` learns how many of the block's bytes are done and may return
    /// false to stop (`RaptorQError.cancelled`).
    public func encodeBlock(_ z: Int, of object: UnsafeRawBufferPointer, esis: [UInt32],
                            into packets: UnsafeMutableRawBufferPointer,
                            progress: ((Int) -> Bool)? = nil) throws(RaptorQError) {
        guard packets.count >= esis.count * packetSize else {
            throw .invalidParameters("packet buffer too small for \(esis.count) packets")
        }
        let base = packets.baseAddress
        try encodeBlock(z, of: object, esis: esis, packetAddress: { base! + $0 * packetSize }, progress: progress)
    }

    /// The same, writing packet n (for esis[n]) at `packetAddress(n)`, which must
    /// give packetSize writable bytes that no other packet uses.
    public func encodeBlock(_ z: Int, of object: UnsafeRawBufferPointer, esis: [UInt32],
                            packetAddress: (Int) -> UnsafeMutableRawPointer,
                            progress: ((Int) -> Bool)? = nil) throws(RaptorQError) {
        guard object.count == Int(oti.transferLength) else {
            throw .invalidParameters("object of \(object.count) bytes, OTI says \(oti.transferLength)")
        }
        guard z >= 0, z < layout.blockCount else { throw .invalidParameters("no source block \(z)") }
        let k = layout.sourceSymbols(inBlock: z)
        let parameters = try CodeParameters(sourceSymbols: k)
        var tuples: [EncodingTuple] = []
        for esi in esis {
            let id = try PayloadID(sourceBlock: UInt8(z), esi: esi)
            id.write(to: packetAddress(tuples.count))
            tuples.append(EncodingTuple(isi: parameters.internalSymbolID(forESI: esi), parameters: parameters))
        }
        let plan = EncodingPlan.shared(for: parameters)
        let block = BlockRegion(layout: layout, block: z, object: UnsafeMutableRawPointer(mutating: object.baseAddress))
        let maxSubSymbol = layout.subSymbolSizes.max() ?? oti.symbolSize
        let work = BufferPool.shared.take(byteCount: (parameters.intermediateSymbols + plan.scratchSlots) * maxSubSymbol)
        defer { BufferPool.shared.give(work) }
        let workBase = work.baseAddress!.assumingMemoryBound(to: UInt8.self)
        for j in layout.subSymbolSizes.indices {
            let size = layout.subSymbolSizes[j]
            plan.run(source: { block.source(subBlock: j, symbol: $0) }, intermediate: workBase,
                     scratch: workBase + parameters.intermediateSymbols * size, stride: size, length: size)
            let offset = PayloadID.encodedSize + layout.subSymbolOffsets[j]
            for (n, esi) in esis.enumerated() {
                let target = packetAddress(n) + offset
                if esi < UInt32(k) {
                    target.copyMemory(from: block.source(subBlock: j, symbol: Int(esi)), byteCount: size)
                } else {
                    BlockEncoder.combine(tuples[n], parameters: parameters, intermediate: UnsafeRawPointer(workBase),
                                         symbolSize: size, offset: 0, length: size, into: target)
                }
            }
            if let progress, !progress(k * (layout.subSymbolOffsets[j] + size)) { throw .cancelled }
        }
    }

    /// Every packet of the object as raptorq's `get_encoded_packets` lists them:
    /// per block, the source packets, then `repairPerBlock` repair packets.
    public func encodedPackets(of object: [UInt8], repairPerBlock: Int) throws(RaptorQError) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for z in 0..<layout.blockCount {
            let k = layout.sourceSymbols(inBlock: z)
            let esis = (0..<(k + repairPerBlock)).map { UInt32($0) }
            var buffer = [UInt8](repeating: 0, count: esis.count * packetSize)
            try object.withBytes { (source) throws(RaptorQError) in
                try buffer.withMutableBytes { (target) throws(RaptorQError) in
                    try encodeBlock(z, of: source, esis: esis, into: target)
                }
            }
            for n in esis.indices { result.append(Array(buffer[(n * packetSize)..<((n + 1) * packetSize)])) }
        }
        return result
    }
}
