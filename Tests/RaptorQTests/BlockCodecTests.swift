import Metainfo
import Testing
import TestSupport
@testable import RaptorQ

/// The per-block API the swarm uses: encode any ESI, decode from any K (or K+1,
/// K+2) symbols in any order, decode from chosen subsets, refuse bad input.
@Suite struct BlockCodecTests {
    static func source(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return random.bytes(count)
    }

    /// A K×T block of random bytes, its encoder and an empty decoder.
    static func codec(k: Int, t: Int, seed: UInt64) throws -> ([UInt8], BlockEncoder, BlockDecoder) {
        let data = source(k * t, seed: seed)
        return (data, try BlockEncoder(source: data, symbolSize: t), try BlockDecoder(sourceSymbolCount: k, symbolSize: t))
    }

    @Test(arguments: [(1, 16), (2, 8), (10, 1), (11, 100), (16, 64), (17, 33), (101, 40), (256, 16), (1000, 8)])
    func sourceSymbolsAreTheBlockAndRepairDecodes(k: Int, t: Int) throws {
        let data = Self.source(k * t - (t > 1 ? 1 : 0), seed: UInt64(k * 1000 + t)) // a short last symbol
        let encoder = try BlockEncoder(source: data, symbolSize: t)
        #expect(encoder.sourceSymbolCount == k)
        var padded = data + [UInt8](repeating: 0, count: k * t - data.count)
        for i in 0..<k {
            #expect(try encoder.symbol(esi: UInt32(i)) == Array(padded[(i * t)..<((i + 1) * t)]), "source symbol \(i)")
        }
        // Lose a third of the source symbols, make up with repair symbols (plus two).
        var random = SplitMix64(seed: UInt64(k))
        let decoder = try BlockDecoder(sourceSymbolCount: k, symbolSize: t)
        var esis = (0..<k).filter { _ in random.next() % 3 != 0 }.map(UInt32.init)
        let lost = k - esis.count
        esis += (0..<(lost + 2)).map { UInt32(k + 7 * $0) }
        esis.shuffle(using: &random)
        for esi in esis { #expect(try decoder.add(esi: esi, symbol: try encoder.symbol(esi: esi))) }
        #expect(decoder.hasEnoughSymbols)
        #expect(try decoder.decode(length: data.count) == data)
        padded = try decoder.decode()
        #expect(Array(padded.prefix(data.count)) == data && padded.dropFirst(data.count).allSatisfy { $0 == 0 })
    }

    @Test func decodesFromRepairSymbolsAnywhereBelow2To24() throws {
        let k = 64, t = 48
        let (data, encoder, decoder) = try Self.codec(k: k, t: t, seed: 7)
        var random = SplitMix64(seed: 8)
        while decoder.receivedCount < k + 2 {
            let esi = UInt32(k) + UInt32(random.next() % UInt64((1 << 24) - k))
            try decoder.add(esi: esi, symbol: try encoder.symbol(esi: esi))
        }
        try decoder.add(esi: (1 << 24) - 1, symbol: try encoder.symbol(esi: (1 << 24) - 1))
        #expect(try decoder.decode() == data)
    }

    @Test func duplicatesAreIgnoredAndOrderDoesNotMatter() throws {
        let k = 20, t = 32
        let (data, encoder, decoder) = try Self.codec(k: k, t: t, seed: 9)
        for esi in (UInt32(5)..<UInt32(k + 8)).reversed() {
            #expect(try decoder.add(esi: esi, symbol: try encoder.symbol(esi: esi)))
            #expect(try !decoder.add(esi: esi, symbol: try encoder.symbol(esi: esi)))
        }
        #expect(decoder.receivedCount == k + 3)
        #expect(try decoder.decode() == data)
    }

    /// Few losses in a small block take the direct route (one GF(256) sum of
    /// received symbols per missing symbol); many take the full program. Both decode.
    @Test func directSumsAndTheFullProgramBothDecode() throws {
        let t = 2048
        let cases: [(k: Int, esis: [UInt32], missing: [Int], direct: Bool)] = [
            (20, (0..<UInt32(20)).filter { $0 != 3 && $0 != 11 } + [20, 21], [3, 11], true),
            (200, (UInt32(200)..<UInt32(402)).map { $0 }, Array(0..<200), false),
        ]
        for testCase in cases {
            let parameters = try CodeParameters(sourceSymbols: testCase.k)
            let plan = DecodingPlan(parameters: parameters, receivedESIs: testCase.esis, missing: testCase.missing, symbolSize: t)
            #expect(plan?.isDirect == testCase.direct, "K = \(testCase.k)")
            let (data, encoder, decoder) = try Self.codec(k: testCase.k, t: t, seed: 31)
            for esi in testCase.esis { try decoder.add(esi: esi, symbol: try encoder.symbol(esi: esi)) }
            #expect(try decoder.decode() == data)
        }
    }

    /// The direct route plans on coefficient vectors of E bytes per slot; for a
    /// large block that is slots × E bytes (gigabytes near K'max), far beyond the
    /// working memory of the full program. Large blocks take the full program.
    @Test func largeBlocksDoNotPlanDirectSums() throws {
        let k = 3000
        let parameters = try CodeParameters(sourceSymbols: k)
        let esis = (0..<UInt32(k)).filter { $0 != 7 } + [UInt32(k), UInt32(k + 1)]
        let plan = try #require(DecodingPlan(parameters: parameters, receivedESIs: esis, missing: [7], symbolSize: 65536))
        #expect(!plan.isDirect, "direct sums over \(plan.program.slotCount) slots × \(esis.count) bytes")
    }

    @Test func decodesAgainLeavingOnePeersSymbolsOut() throws {
        // Two honest peers and one that sends garbage: decoding with everything
        // gives wrong bytes; leaving the bad peer out gives the block.
        let k = 32, t = 64
        let (data, encoder, decoder) = try Self.codec(k: k, t: t, seed: 10)
        var peerOf: [UInt32: Int] = [:]
        for esi in UInt32(0)..<UInt32(k + 40) where esi % 4 != 0 || esi >= UInt32(k) {
            let peer = Int(esi % 3)
            var symbol = try encoder.symbol(esi: esi)
            if peer == 2 && esi >= UInt32(k) { symbol[3] ^= 0x5A }
            try decoder.add(esi: esi, symbol: symbol)
            peerOf[esi] = peer
        }
        #expect(try decoder.decode() != data)
        var output = [UInt8](repeating: 0, count: k * t)
        try output.withUnsafeMutableBytes { buffer in
            try decoder.decode(into: buffer, using: { peerOf[$0] != 2 })
        }
        #expect(output == data)
        #expect(decoder.isDecodable(using: { peerOf[$0] != 2 }))
        #expect(!decoder.isDecodable(using: { peerOf[$0] == 0 }))
    }

    @Test func tooFewSymbolsIsAnErrorNotACrash() throws {
        let k = 30, t = 16
        let (_, encoder, decoder) = try Self.codec(k: k, t: t, seed: 11)
        for esi in UInt32(0)..<UInt32(k - 1) { try decoder.add(esi: esi + 3, symbol: try encoder.symbol(esi: esi + 3)) }
        #expect(!decoder.hasEnoughSymbols)
        #expect(throws: RaptorQError.self) { try decoder.decode() }
        // K symbols that are linearly dependent cannot happen with source symbols;
        // check the error path with a subset too small after filtering.
        #expect(throws: RaptorQError.self) {
            var output = [UInt8](repeating: 0, count: k * t)
            try output.withUnsafeMutableBytes { try decoder.decode(into: $0, using: { $0 % 2 == 0 }) }
        }
    }

    @Test func hostileInputGetsClearErrors() throws {
        let k = 10, t = 16
        let decoder = try BlockDecoder(sourceSymbolCount: k, symbolSize: t, capacity: 12)
        let symbol = [UInt8](repeating: 1, count: t)
        #expect(throws: RaptorQError.self) { try decoder.add(esi: 1 << 24, symbol: symbol) }
        #expect(throws: RaptorQError.self) { try decoder.add(esi: 3, symbol: [1, 2, 3]) }
        #expect(throws: RaptorQError.self) { try decoder.add(esi: 3, symbol: symbol + [0]) }
        for esi in UInt32(0)..<12 { try decoder.add(esi: esi + 100, symbol: symbol) }
        #expect(throws: RaptorQError.capacityExceeded("already holding 12 symbols for a block of 10")) {
            try decoder.add(esi: 5, symbol: symbol)
        }
        #expect(throws: RaptorQError.self) {
            var small = [UInt8](repeating: 0, count: (k - 1) * t)
            try small.withUnsafeMutableBytes { try decoder.decode(into: $0) }
        }
        #expect(throws: RaptorQError.self) { try BlockDecoder(sourceSymbolCount: 0, symbolSize: t) }
        #expect(throws: RaptorQError.self) { try BlockDecoder(sourceSymbolCount: 56404, symbolSize: t) }
        #expect(throws: RaptorQError.self) { try BlockDecoder(sourceSymbolCount: 10, symbolSize: 0) }
        #expect(throws: RaptorQError.self) { try BlockDecoder(sourceSymbolCount: 10, symbolSize: 70000) }
        #expect(throws: RaptorQError.self) { try BlockDecoder(sourceSymbolCount: 10, symbolSize: 16, capacity: 9) }
        #expect(throws: RaptorQError.self) { try BlockEncoder(source: [UInt8](), symbolSize: 16) }
        #expect(throws: RaptorQError.self) { try BlockEncoder(source: [1, 2, 3], symbolSize: 0) }
        #expect(throws: RaptorQError.self) { try BlockEncoder(source: [UInt8](repeating: 0, count: 56404), symbolSize: 1) }
        let encoder = try BlockEncoder(source: [1, 2, 3], symbolSize: 4)
        #expect(throws: RaptorQError.self) { try encoder.symbol(esi: 1 << 24) }
        #expect(throws: RaptorQError.self) {
            var tiny = [UInt8](repeating: 0, count: 3)
            try tiny.withUnsafeMutableBytes { try encoder.encode(esi: 0, into: $0) }
        }
    }

    @Test func memoryFootprintIsKnownUpFront() throws {
        let encoder = try BlockEncoder(source: Self.source(16 * 1024, seed: 12), symbolSize: 1024)
        #expect(encoder.memoryFootprint == (try BlockEncoder.memoryFootprint(sourceSymbols: 16, symbolSize: 1024)))
        #expect(encoder.memoryFootprint == encoder.parameters.intermediateSymbols * 1024)
    }

    @Test func decodeSucceedsWithKPlusTwoAlmostAlways() throws {
        // 200 random receptions of K+2 symbols must all decode (RFC: failure ≤ 1e-6).
        var random = SplitMix64(seed: 13)
        for trial in 0..<200 {
            let k = [10, 26, 55, 100][trial % 4]
            var esis = Set<UInt32>()
            while esis.count < k + 2 { esis.insert(UInt32(random.next() % UInt64(3 * k))) }
            #expect(try BlockDecoder.isDecodable(sourceSymbolCount: k, esis: Array(esis)), "trial \(trial)")
        }
    }
}

/// The in-place mode the swarm uses: source symbols live in the piece buffer.
@Suite struct InPlaceDecodingTests {
    @Test func fillsInTheMissingSymbolsOfTheBlockBuffer() throws {
        let k = 40, t = 64
        let length = k * t - 10 // a short last piece
        let data = BlockCodecTests.source(length, seed: 30)
        let encoder = try BlockEncoder(source: data, symbolSize: t)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
        let decoder = try BlockDecoder(sourceSymbolCount: k, symbolSize: t, decodingInPlace: buffer)
        // Source symbols 0..<30 arrive: some through add, some written by the caller.
        for i in 0..<30 {
            if i % 2 == 0 {
                try decoder.add(esi: UInt32(i), symbol: try encoder.symbol(esi: UInt32(i)))
            } else {
                let symbol = try encoder.symbol(esi: UInt32(i))
                symbol.withUnsafeBytes { (buffer.baseAddress! + i * t).copyMemory(from: $0.baseAddress!, byteCount: t) }
                try decoder.addSourceSymbolInPlace(esi: UInt32(i))
            }
        }
        // The last (short) source symbol, and repair symbols for the 9 others.
        try decoder.add(esi: UInt32(k - 1), symbol: try encoder.symbol(esi: UInt32(k - 1)))
        for r in 0..<11 { try decoder.add(esi: UInt32(k + r), symbol: try encoder.symbol(esi: UInt32(k + r))) }
        try decoder.decode()
        #expect(Array(buffer) == data)

        // Leaving out symbols that live in the buffer needs another output buffer.
        #expect(throws: RaptorQError.self) { try decoder.decode(into: buffer, using: { $0 != 4 }) }
        var other = [UInt8](repeating: 0, count: length)
        try other.withUnsafeMutableBytes { try decoder.decode(into: $0, using: { $0 != 4 }) }
        #expect(other == data)
        #expect(throws: RaptorQError.self) { try BlockDecoder(sourceSymbolCount: k, symbolSize: t).addSourceSymbolInPlace(esi: 1) }
        #expect(throws: RaptorQError.self) { try decoder.addSourceSymbolInPlace(esi: UInt32(k)) }
    }
}
