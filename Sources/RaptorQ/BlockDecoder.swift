/// Decodes one source block from any of its encoding symbols (RFC 6330 §5.4).
///
/// Symbols are added in any order; duplicates are ignored. Once K symbols are
/// in (`hasEnoughSymbols`), a decode almost always succeeds (RFC 6330: failure
/// ≤ 1 % with K symbols, ≤ 0.01 % with K+1, ≤ 0.0001 % with K+2); when it does
/// not, add a symbol or two and try again. The decoder keeps every symbol it
/// accepted, so a decode can also use a chosen subset of them
/// (`decode(into:using:)`): the swarm leaves one peer's symbols out at a time to
/// find a peer that sent garbage.
///
/// Two ways to hold symbols:
/// - by default the decoder copies every symbol into memory of its own;
/// - given the block's buffer (`decodingInPlace:`), source symbols go straight
///   to their place in it (or are written there by the caller, see
///   `addSourceSymbolInPlace`), only repair symbols are kept aside, and
///   `decode()` fills in the missing source symbols in place.
///
/// Memory is bounded: at most `capacity` symbols are stored, plus the L
/// intermediate symbols of a decode.
public final class BlockDecoder {
    public let parameters: CodeParameters
    public let symbolSize: Int
    /// The most symbols this decoder stores.
    public let capacity: Int
    /// The block's own buffer, in in-place mode.
    private let block: UnsafeMutableRawBufferPointer?
    private var stored: SymbolArena
    private var work: SymbolArena
    private var esis: [UInt32] = []
    /// Per accepted symbol: its index in `stored`, or -1 - i for source symbol i kept in `block`.
    private var location: [Int32] = []
    private var indexOfESI: [UInt32: Int] = [:]
    private var storedCount = 0

    /// A decoder for a block of `sourceSymbolCount` symbols of `symbolSize` bytes,
    /// storing at most `capacity` symbols (default 2K + 16). With `block` (more
    /// than (K-1)·T and at most K·T bytes, kept alive by the caller while the
    /// decoder lives) it works in place.
    public init(sourceSymbolCount: Int, symbolSize: Int, capacity: Int? = nil,
                decodingInPlace block: UnsafeMutableRawBufferPointer? = nil) throws(RaptorQError) {
        guard symbolSize > 0, symbolSize <= Int(UInt16.max) else {
            throw .invalidParameters("symbol size must be 1...65535 bytes, not \(symbolSize)")
        }
        parameters = try CodeParameters(sourceSymbols: sourceSymbolCount)
        self.symbolSize = symbolSize
        let limit = capacity ?? Self.defaultCapacity(sourceSymbolCount: sourceSymbolCount)
        guard limit >= sourceSymbolCount else {
            throw .invalidParameters("a decoder must be able to hold K = \(sourceSymbolCount) symbols")
        }
        if let block {
            guard block.count > (sourceSymbolCount - 1) * symbolSize, block.count <= sourceSymbolCount * symbolSize else {
                throw .invalidParameters("a buffer of \(block.count) bytes does not fit a block of \(sourceSymbolCount) symbols of \(symbolSize) bytes")
            }
        }
        self.capacity = limit
        self.block = block
        stored = SymbolArena(symbolSize: symbolSize, capacity: min(limit, sourceSymbolCount + 2))
        work = SymbolArena(symbolSize: symbolSize, capacity: 1)
    }

    /// 2K + 16: more symbols than a block can need (a decode with K + 2 of them
    /// fails about once in a million), so a bound on what a block stores.
    public static func defaultCapacity(sourceSymbolCount k: Int) -> Int { 2 * k + 16 }

    deinit {
        stored.deallocate()
        work.deallocate()
    }

    /// K: source symbols in the block.
    public var sourceSymbolCount: Int { parameters.sourceSymbols }
    /// Distinct symbols stored so far.
    public var receivedCount: Int { esis.count }
    /// Their encoding symbol IDs, in order of arrival.
    public var receivedESIs: [UInt32] { esis }
    /// True once K distinct symbols are in: a decode will very likely succeed.
    public var hasEnoughSymbols: Bool { esis.count >= parameters.sourceSymbols }

    /// Whether source symbol i fits the in-place buffer whole (the last one may be cut short).
    private func fitsBlock(_ i: Int) -> Bool {
        guard let block else { return false }
        return (i + 1) * symbolSize <= block.count
    }

    private func validate(_ esi: UInt32) throws(RaptorQError) -> Bool {
        guard esi < 1 << 24 else { throw .invalidPacket("encoding symbol ID \(esi) is not below 2^24") }
        if indexOfESI[esi] != nil { return false }
        guard esis.count < capacity else {
            throw .capacityExceeded("already holding \(capacity) symbols for a block of \(parameters.sourceSymbols)")
        }
        return true
    }

    private func record(_ esi: UInt32, at place: Int32) {
        indexOfESI[esi] = esis.count
        esis.append(esi)
        location.append(place)
    }

    /// Keeps a copy of `bytes` (T bytes) aside and returns its place.
    private func storeAside(_ bytes: UnsafeRawPointer, count: Int) -> Int32 {
        let index = storedCount
        stored.reserve(index + 1, keeping: index)
        storedCount += 1
        let target = UnsafeMutableRawPointer(stored.pointer(index))
        target.copyMemory(from: bytes, byteCount: count)
        if count < symbolSize { (target + count).initializeMemory(as: UInt8.self, repeating: 0, count: symbolSize - count) }
        return Int32(index)
    }

    /// Stores encoding symbol `esi` (a copy). Returns false for a duplicate (ignored).
    @discardableResult
    public func add(esi: UInt32, symbol: UnsafeRawBufferPointer) throws(RaptorQError) -> Bool {
        guard symbol.count == symbolSize else {
            throw .invalidPacket("symbol \(esi) has \(symbol.count) bytes, expected \(symbolSize)")
        }
        guard try validate(esi) else { return false }
        let i = Int(esi)
        if esi < UInt32(parameters.sourceSymbols), let block {
            let start = i * symbolSize
            (block.baseAddress! + start).copyMemory(from: symbol.baseAddress!, byteCount: min(symbolSize, block.count - start))
            record(esi, at: fitsBlock(i) ? -1 - Int32(i) : storeAside(symbol.baseAddress!, count: symbolSize))
        } else {
            record(esi, at: storeAside(symbol.baseAddress!, count: symbolSize))
        }
        return true
    }

    @discardableResult
    public func add(esi: UInt32, symbol: [UInt8]) throws(RaptorQError) -> Bool {
        try symbol.withBytes { (buffer) throws(RaptorQError) in try add(esi: esi, symbol: buffer) }
    }

    /// In place mode: the caller has written source symbol `esi` into the block
    /// buffer itself (say, straight from the network). Returns false for a duplicate.
    @discardableResult
    public func addSourceSymbolInPlace(esi: UInt32) throws(RaptorQError) -> Bool {
        guard let block else { throw .invalidParameters("this decoder was not given the block's buffer") }
        guard esi < UInt32(parameters.sourceSymbols) else {
            throw .invalidPacket("ESI \(esi) is not a source symbol of a block of \(parameters.sourceSymbols)")
        }
        guard try validate(esi) else { return false }
        let i = Int(esi), start = i * symbolSize
        record(esi, at: fitsBlock(i) ? -1 - Int32(i)
                                     : storeAside(UnsafeRawPointer(block.baseAddress! + start), count: block.count - start))
        return true
    }

    private func pointer(ofStored index: Int) -> UnsafeMutablePointer<UInt8> {
        let place = location[index]
        if place >= 0 { return stored.pointer(Int(place)) }
        return (block!.baseAddress! + Int(-1 - place) * symbolSize).assumingMemoryBound(to: UInt8.self)
    }

    /// Whether the stored symbols that `include` accepts determine the block: the
    /// matrix work of a decode without the symbol work.
    public func isDecodable(using include: (UInt32) -> Bool = { _ in true }) -> Bool {
        Self.isDecodable(parameters: parameters, esis: esis.filter(include))
    }

    /// Whether symbols with these distinct ESIs determine a block of `sourceSymbolCount` symbols.
    public static func isDecodable(sourceSymbolCount: Int, esis: [UInt32]) throws(RaptorQError) -> Bool {
        guard esis.allSatisfy({ $0 < 1 << 24 }), Set(esis).count == esis.count else {
            throw .invalidPacket("ESIs must be distinct and below 2^24")
        }
        return isDecodable(parameters: try CodeParameters(sourceSymbols: sourceSymbolCount), esis: esis)
    }

    private static func isDecodable(parameters: CodeParameters, esis: [UInt32]) -> Bool {
        guard esis.count >= parameters.sourceSymbols else { return false }
        if esis.filter({ $0 < UInt32(parameters.sourceSymbols) }).count == parameters.sourceSymbols { return true }
        return DecodingPlan(parameters: parameters, receivedESIs: esis, missing: [], symbolSize: 0) != nil
    }

    /// In place mode: decodes from all stored symbols, filling in the block buffer.
    public func decode() throws(RaptorQError) {
        guard let block else { throw .invalidParameters("this decoder was not given the block's buffer; use decode(into:)") }
        try decode(into: block)
    }

    /// Decodes the block from all stored symbols into `output`, which holds the
    /// block's bytes: more than (K-1)·T and at most K·T (a short last symbol is
    /// the block's zero padding, left out).
    public func decode(into output: UnsafeMutableRawBufferPointer) throws(RaptorQError) {
        try decode(into: output, using: { _ in true })
    }

    /// Decodes from the stored symbols whose ESI `include` accepts. In place
    /// mode, a subset that leaves out received source symbols must be decoded
    /// into another buffer (the block's own holds them).
    public func decode(into output: UnsafeMutableRawBufferPointer, using include: (UInt32) -> Bool) throws(RaptorQError) {
        let k = parameters.sourceSymbols
        guard output.count > (k - 1) * symbolSize, output.count <= k * symbolSize else {
            throw .invalidParameters("output of \(output.count) bytes does not fit a block of \(k) symbols of \(symbolSize) bytes")
        }
        let chosen = esis.indices.filter { include(esis[$0]) }
        guard chosen.count >= k else {
            throw .notEnoughSymbols("\(chosen.count) symbols for a block of \(k)")
        }
        var sourceIndex = [Int](repeating: -1, count: k)
        for index in chosen where esis[index] < UInt32(k) { sourceIndex[Int(esis[index])] = index }
        if let block, output.baseAddress == block.baseAddress,
           esis.contains(where: { $0 < UInt32(k) && !include($0) }) {
            throw .invalidParameters("a subset leaving out received source symbols must be decoded into another buffer")
        }
        let missing = (0..<k).filter { sourceIndex[$0] < 0 }
        for i in 0..<k where sourceIndex[i] >= 0 {
            let source = pointer(ofStored: sourceIndex[i])
            let start = i * symbolSize
            if UnsafeMutableRawPointer(source) == output.baseAddress! + start { continue }
            (output.baseAddress! + start).copyMemory(from: source, byteCount: min(symbolSize, output.count - start))
        }
        if missing.isEmpty { return }
        try recover(missing, from: chosen, into: output)
    }

    /// Decodes into a new array of `length` bytes (default K·T).
    public func decode(length: Int? = nil) throws(RaptorQError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: length ?? parameters.sourceSymbols * symbolSize)
        try result.withMutableBytes { (buffer) throws(RaptorQError) in try decode(into: buffer) }
        return result
    }

    /// Solves for the missing source symbols; the plan reads the chosen stored
    /// symbols where they are and writes the missing ones straight into `output`.
    private func recover(_ missing: [Int], from chosen: [Int], into output: UnsafeMutableRawBufferPointer) throws(RaptorQError) {
        let k = parameters.sourceSymbols
        guard let plan = DecodingPlan(parameters: parameters, receivedESIs: chosen.map { esis[$0] }, missing: missing,
                                      symbolSize: symbolSize) else {
            throw .notEnoughSymbols("the \(chosen.count) symbols at hand do not determine the block; add more")
        }
        // Working symbols, then one more for a short last symbol.
        work.reserve(plan.workSymbols + 1, keeping: 0)
        let paddedLast = work.pointer(plan.workSymbols)
        let shortLast = output.count < k * symbolSize
        let outputBytes = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        plan.run(received: { self.pointer(ofStored: chosen[$0]) },
                 output: { n in
                     let i = missing[n]
                     return shortLast && i == k - 1 ? paddedLast : outputBytes + i * symbolSize
                 },
                 work: work.pointer(0), workStride: symbolSize, length: symbolSize)
        if shortLast, missing.last == k - 1 {
            let start = (k - 1) * symbolSize
            (output.baseAddress! + start).copyMemory(from: paddedLast, byteCount: output.count - start)
        }
    }
}
