import CKernels

/// Encodes one source block (RFC 6330 §5.3): computes the L intermediate
/// symbols once, then produces the encoding symbol of any ESI < 2^24 on demand
/// (a source symbol for ESI < K, a repair symbol above) with a handful of XORs.
///
/// This is the per-block API of the fountain-coded swarm: one BitTorrent piece
/// is one block, T = 16 KiB, and a seeder keeps hot pieces' encoders in a cache
/// bounded by `memoryFootprint`. Instances are immutable after creation and
/// may be used from several threads at once.
public final class BlockEncoder: @unchecked Sendable {
    public let parameters: CodeParameters
    public let symbolSize: Int
    /// L × T bytes of intermediate symbols, owned by this encoder.
    private let intermediate: UnsafeMutableRawBufferPointer

    /// The source block: `source.count` bytes split into K = ⌈count / T⌉ symbols
    /// of T bytes, the last one padded with zeros.
    public init(source: UnsafeRawBufferPointer, symbolSize: Int) throws(RaptorQError) {
        (parameters, intermediate) = try Self.intermediateSymbols(of: source, symbolSize: symbolSize)
        self.symbolSize = symbolSize
    }

    public init(source: [UInt8], symbolSize: Int) throws(RaptorQError) {
        (parameters, intermediate) = try source.withBytes { (buffer) throws(RaptorQError) in
            try Self.intermediateSymbols(of: buffer, symbolSize: symbolSize)
        }
        self.symbolSize = symbolSize
    }

    private static func intermediateSymbols(of source: UnsafeRawBufferPointer, symbolSize: Int)
        throws(RaptorQError) -> (CodeParameters, UnsafeMutableRawBufferPointer) {
        guard symbolSize > 0, symbolSize <= Int(UInt16.max) else {
            throw .invalidParameters("symbol size must be 1...65535 bytes, not \(symbolSize)")
        }
        guard !source.isEmpty else { throw .invalidParameters("a source block cannot be empty") }
        let k = (source.count + symbolSize - 1) / symbolSize
        let parameters = try CodeParameters(sourceSymbols: k)
        let plan = EncodingPlan.shared(for: parameters)
        let intermediate = BufferPool.shared.take(byteCount: parameters.intermediateSymbols * symbolSize)
        run(plan, source: source, symbolSize: symbolSize, into: intermediate)
        return (parameters, intermediate)
    }

    deinit { BufferPool.shared.give(intermediate) }

    /// K: source symbols in the block.
    public var sourceSymbolCount: Int { parameters.sourceSymbols }

    /// Bytes this encoder keeps alive (its intermediate symbols).
    public var memoryFootprint: Int { parameters.intermediateSymbols * symbolSize }

    /// Bytes an encoder for `sourceSymbols` symbols of `symbolSize` bytes keeps alive.
    public static func memoryFootprint(sourceSymbols: Int, symbolSize: Int) throws(RaptorQError) -> Int {
        try CodeParameters(sourceSymbols: sourceSymbols).intermediateSymbols * symbolSize
    }

    /// Encoding plans (one per block size K, a few hundred kilobytes for K = 256)
    /// are cached and shared by all encoders, since a torrent's pieces mostly
    /// have one size; this drops them.
    public static func discardCachedPlans() { EncodingPlan.discardCached() }

    /// Writes the T bytes of encoding symbol `esi` into `buffer` (at least T bytes).
    public func encode(esi: UInt32, into buffer: UnsafeMutableRawBufferPointer) throws(RaptorQError) {
        guard esi < 1 << 24 else { throw .invalidPacket("encoding symbol ID \(esi) is not below 2^24") }
        guard buffer.count >= symbolSize else {
            throw .invalidParameters("buffer of \(buffer.count) bytes cannot hold a \(symbolSize)-byte symbol")
        }
        let isi = parameters.internalSymbolID(forESI: esi)
        Self.combine(EncodingTuple(isi: isi, parameters: parameters), parameters: parameters,
                     intermediate: UnsafeRawPointer(intermediate.baseAddress!), symbolSize: symbolSize,
                     offset: 0, length: symbolSize, into: buffer.baseAddress!)
    }

    /// Encoding symbol `esi` as a new array.
    public func symbol(esi: UInt32) throws(RaptorQError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: symbolSize)
        try result.withMutableBytes { (buffer) throws(RaptorQError) in try encode(esi: esi, into: buffer) }
        return result
    }

    /// Enc[] (§5.3.5.3): the XOR of the intermediate symbols the tuple names,
    /// over bytes offset..<offset+length of each, in one pass over the target.
    static func combine(_ tuple: EncodingTuple, parameters: CodeParameters, intermediate: UnsafeRawPointer,
                        symbolSize: Int, offset: Int, length: Int, into target: UnsafeMutableRawPointer) {
        // At most 30 LT columns (Deg ≤ 30) and 3 PI columns.
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: 33) { sources in
            var count = 0
            tuple.forEachColumn(parameters) { column in
                sources[count] = intermediate + column * symbolSize + offset
                count += 1
            }
            bf_xor_sum(target, sources.baseAddress, count, length, 0)
        }
    }

    /// Runs the encoding plan: source symbols in, intermediate symbols out.
    private static func run(_ plan: EncodingPlan, source: UnsafeRawBufferPointer, symbolSize: Int,
                            into intermediate: UnsafeMutableRawBufferPointer) {
        let k = plan.parameters.sourceSymbols
        // Scratch symbols, then a zero-padded copy of a short last source symbol.
        let scratch = BufferPool.shared.take(byteCount: (plan.scratchSlots + 1) * symbolSize)
        defer { BufferPool.shared.give(scratch) }
        let scratchBase = scratch.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let paddedLast = scratchBase + plan.scratchSlots * symbolSize
        let lastStart = (k - 1) * symbolSize
        let lastIsShort = source.count - lastStart < symbolSize
        if lastIsShort {
            let padded = UnsafeMutableRawBufferPointer(start: paddedLast, count: symbolSize)
            padded.initializeMemory(as: UInt8.self, repeating: 0)
            padded.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[lastStart...]))
        }
        let sourceBase = source.baseAddress!.assumingMemoryBound(to: UInt8.self)
        plan.run(source: { i in lastIsShort && i == k - 1 ? UnsafePointer(paddedLast) : sourceBase + i * symbolSize },
                 intermediate: intermediate.baseAddress!.assumingMemoryBound(to: UInt8.self),
                 scratch: scratchBase, stride: symbolSize, length: symbolSize)
    }
}
