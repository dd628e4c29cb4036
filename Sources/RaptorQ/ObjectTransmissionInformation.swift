/// The FEC Object Transmission Information of RFC 6330 §3.3: what a receiver
/// must know to decode an object. Twelve bytes on the wire:
/// `[F u40][reserved u8][T u16][Z u8][N u16][Al u8]`, big-endian.
public struct ObjectTransmissionInformation: Hashable, Sendable {
    /// F: the object's length in bytes.
    public let transferLength: UInt64
    /// T: symbol size in bytes, a multiple of Al.
    public let symbolSize: Int
    /// Z: number of source blocks.
    public let sourceBlocks: Int
    /// N: number of sub-blocks per source block.
    public let subBlocks: Int
    /// Al: symbol alignment in bytes.
    public let alignment: Int

    /// The largest F (RFC 6330 erratum 5548).
    public static let maxTransferLength: UInt64 = 942_574_504_275
    public static let encodedSize = 12

    /// Checks every field against RFC 6330's limits, so that no later step can
    /// be led into absurd allocations: F ≤ 942,574,504,275; 1 ≤ T ≤ 65,535 with
    /// Al | T; every source block at most K'max = 56,403 symbols and none empty;
    /// every sub-symbol at least Al bytes. An empty object (F = 0) has Z = 0.
    public init(transferLength: UInt64, symbolSize: Int, sourceBlocks: Int, subBlocks: Int, alignment: Int) throws(RaptorQError) {
        guard transferLength <= Self.maxTransferLength else {
            throw .invalidParameters("object length \(transferLength) exceeds RFC 6330's \(Self.maxTransferLength) bytes")
        }
        guard alignment >= 1, alignment <= 255 else { throw .invalidParameters("symbol alignment \(alignment) is not 1...255") }
        guard symbolSize >= 1, symbolSize <= 65535, symbolSize % alignment == 0 else {
            throw .invalidParameters("symbol size \(symbolSize) is not 1...65535 and a multiple of the alignment \(alignment)")
        }
        guard subBlocks >= 1, subBlocks <= symbolSize / alignment else {
            throw .invalidParameters("\(subBlocks) sub-blocks do not fit symbols of \(symbolSize) bytes aligned to \(alignment)")
        }
        let kt = (transferLength + UInt64(symbolSize) - 1) / UInt64(symbolSize)
        if transferLength == 0 {
            guard sourceBlocks == 0 || sourceBlocks == 1 else {
                throw .invalidParameters("an empty object has no source blocks, not \(sourceBlocks)")
            }
        } else {
            guard sourceBlocks >= 1, sourceBlocks <= 255, UInt64(sourceBlocks) <= kt else {
                throw .invalidParameters("\(sourceBlocks) source blocks for \(kt) symbols")
            }
            let largest = (kt + UInt64(sourceBlocks) - 1) / UInt64(sourceBlocks)
            guard largest <= UInt64(SystematicIndexTable.maxSourceSymbols) else {
                throw .invalidParameters("source blocks of \(largest) symbols exceed RFC 6330's \(SystematicIndexTable.maxSourceSymbols)")
            }
        }
        self.transferLength = transferLength
        self.symbolSize = symbolSize
        self.sourceBlocks = transferLength == 0 ? 0 : sourceBlocks
        self.subBlocks = subBlocks
        self.alignment = alignment
    }

    /// Parses and checks the 12-byte encoding.
    public init(encoded bytes: some Collection<UInt8>) throws(RaptorQError) {
        let b = Array(bytes)
        guard b.count == Self.encodedSize else {
            throw .invalidParameters("an OTI has \(Self.encodedSize) bytes, not \(b.count)")
        }
        let f = b[0..<5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        try self.init(transferLength: f, symbolSize: Int(b[6]) << 8 | Int(b[7]), sourceBlocks: Int(b[8]),
                      subBlocks: Int(b[9]) << 8 | Int(b[10]), alignment: Int(b[11]))
    }

    /// The 12-byte encoding (the reserved byte is zero).
    public var encoded: [UInt8] {
        let f = transferLength
        return [UInt8(truncatingIfNeeded: f >> 32), UInt8(truncatingIfNeeded: f >> 24), UInt8(truncatingIfNeeded: f >> 16),
                UInt8(truncatingIfNeeded: f >> 8), UInt8(truncatingIfNeeded: f), 0,
                UInt8(symbolSize >> 8), UInt8(symbolSize & 0xFF), UInt8(sourceBlocks),
                UInt8(subBlocks >> 8), UInt8(subBlocks & 0xFF), UInt8(alignment)]
    }

    /// The decoder working memory raptorq assumes by default (10 MiB).
    public static let defaultWorkingMemory = 10 * 1024 * 1024

    /// Partitioning as in RFC 6330 §4.4.1.2, with the defaults of the raptorq
    /// library (so packets match it byte for byte): Al = 8 and sub-symbols of at
    /// least 8·Al bytes when the packet size allows (else Al = 1), T = the packet
    /// size rounded down to Al, Z = ⌈Kt / KL(N_max)⌉ and the least N whose
    /// sub-blocks fit `workingMemory` bytes of decoder memory.
    public init(transferLength: UInt64, packetSize: Int, workingMemory: Int = defaultWorkingMemory) throws(RaptorQError) {
        guard packetSize >= 1, packetSize <= 65535 else { throw .invalidParameters("packet size \(packetSize) is not 1...65535") }
        guard workingMemory >= 1 << 16 else { throw .invalidParameters("working memory of \(workingMemory) bytes is too small") }
        let (alignment, subSymbolSize) = packetSize >= 64 ? (8, 8) : (1, 1)
        let t = packetSize - packetSize % alignment
        let kt = (transferLength + UInt64(t) - 1) / UInt64(t)
        let nMax = t / (subSymbolSize * alignment)
        // KL(n): the largest K' whose sub-blocks of n fit the working memory.
        func kl(_ n: Int) -> UInt64 {
            let subSymbol = (t + alignment * n - 1) / (alignment * n)
            let limit = workingMemory / (alignment * subSymbol)
            var best = SystematicIndexTable.row(at: 0).extendedSymbols
            for index in 0..<SystematicIndexTable.rowCount {
                let kPrime = SystematicIndexTable.row(at: index).extendedSymbols
                if kPrime <= limit { best = kPrime } else { break }
            }
            return UInt64(best)
        }
        let z = (kt + kl(nMax) - 1) / kl(nMax)
        guard z <= 255 else {
            throw .invalidParameters("\(transferLength) bytes need \(z) source blocks of \(t)-byte symbols (at most 255): use larger symbols")
        }
        var n = nMax
        if z > 0 {
            for candidate in 1...max(1, nMax) where (kt + z - 1) / z <= kl(candidate) {
                n = candidate
                break
            }
        }
        try self.init(transferLength: transferLength, symbolSize: t, sourceBlocks: Int(z), subBlocks: max(1, n), alignment: alignment)
    }
}

/// The FEC Payload ID of RFC 6330 §3.2: source block number and encoding symbol ID.
public struct PayloadID: Hashable, Sendable {
    public let sourceBlock: UInt8
    /// A 24-bit encoding symbol ID.
    public let esi: UInt32

    public static let encodedSize = 4

    public init(sourceBlock: UInt8, esi: UInt32) throws(RaptorQError) {
        guard esi < 1 << 24 else { throw .invalidPacket("encoding symbol ID \(esi) is not below 2^24") }
        self.sourceBlock = sourceBlock
        self.esi = esi
    }

    /// Parses the first four bytes of `bytes`.
    public init(encoded bytes: UnsafeRawBufferPointer) throws(RaptorQError) {
        guard bytes.count >= 4 else { throw .invalidPacket("a payload ID has 4 bytes, not \(bytes.count)") }
        sourceBlock = bytes[0]
        esi = UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
    }

    /// Writes the four bytes at `pointer`.
    public func write(to pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: sourceBlock, toByteOffset: 0, as: UInt8.self)
        pointer.storeBytes(of: UInt8(esi >> 16 & 0xFF), toByteOffset: 1, as: UInt8.self)
        pointer.storeBytes(of: UInt8(esi >> 8 & 0xFF), toByteOffset: 2, as: UInt8.self)
        pointer.storeBytes(of: UInt8(esi & 0xFF), toByteOffset: 3, as: UInt8.self)
    }
}
