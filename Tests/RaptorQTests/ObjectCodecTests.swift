import Metainfo
import Testing
import TestSupport
@testable import RaptorQ

/// Whole objects (RFC 6330 §4.4): the OTI, partitioning into source blocks and
/// sub-blocks, and encode/decode round trips through that layout.
@Suite struct ObjectCodecTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func defaultsMatchRaptorq() throws {
        // The reference value from raptorq 2.0.0: F = 1,000,000, T = 1280.
        let oti = try ObjectTransmissionInformation(transferLength: 1_000_000, packetSize: 1280)
        #expect(Self.hex(oti.encoded) == "00000f424000050001000108")
        #expect(ObjectLayout(oti).sourceSymbols(inBlock: 0) == 782)
        // Above ~10 MiB of decoder memory the block is split into sub-blocks.
        let big = try ObjectTransmissionInformation(transferLength: 16 << 20, packetSize: 1280)
        #expect(big.sourceBlocks == 1 && big.subBlocks == 2 && big.alignment == 8)
        // Objects beyond K'max symbols get several source blocks.
        let huge = try ObjectTransmissionInformation(transferLength: 10_000_000_000, packetSize: 1280)
        #expect(huge.sourceBlocks == 139)
        #expect(throws: RaptorQError.self) { try ObjectTransmissionInformation(transferLength: 100_000_000_000, packetSize: 1280) }
        // Small packets fall back to an alignment of 1.
        let small = try ObjectTransmissionInformation(transferLength: 1000, packetSize: 50)
        #expect(small.alignment == 1 && small.symbolSize == 50)
        let odd = try ObjectTransmissionInformation(transferLength: 1000, packetSize: 1283)
        #expect(odd.symbolSize == 1280)
    }

    @Test func otiRoundTripsAndRejectsLies() throws {
        let oti = try ObjectTransmissionInformation(transferLength: 123_457, symbolSize: 1024, sourceBlocks: 2, subBlocks: 4, alignment: 8)
        #expect(try ObjectTransmissionInformation(encoded: oti.encoded) == oti)
        func lie(_ hex: String) -> Bool {
            let bytes = stride(from: 0, to: hex.count, by: 2).map {
                UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)..<hex.index(hex.startIndex, offsetBy: $0 + 2)], radix: 16)!
            }
            return (try? ObjectTransmissionInformation(encoded: bytes)) == nil
        }
        #expect(!lie("00000f424000050001000108"))
        #expect(lie("ffffffffff00050001000108"))   // F beyond RFC 6330's limit
        #expect(lie("00000f424000000001000108"))   // T = 0
        #expect(lie("00000f424000050301000108"))   // T not a multiple of Al
        #expect(lie("00000f424000050001000100"))   // Al = 0
        #expect(lie("00000f424000050000000108"))   // Z = 0 for a non-empty object
        #expect(lie("0000000a0000050005000108"))   // Z larger than the symbol count
        #expect(lie("00000f424000050001000008"))   // N = 0
        #expect(lie("00000f4240000500010fff08"))   // N > T / Al
        #expect(lie("ffffffffff00000801000101"))   // blocks beyond K'max symbols
        #expect(lie("00000f4240000500010001"))     // truncated
        #expect(lie("00000f42400005000100010800")) // too long
        let empty = try ObjectTransmissionInformation(transferLength: 0, packetSize: 1280)
        #expect(empty.sourceBlocks == 0)
    }

    @Test func partitionFollowsTheRFC() {
        let (il, small, jl, js) = ObjectLayout.partition(782, 3)
        #expect(il == 261 && small == 260 && jl == 2 && js == 1)
        let layout = ObjectLayout(try! ObjectTransmissionInformation(
            transferLength: 50_001, symbolSize: 64, sourceBlocks: 3, subBlocks: 3, alignment: 4))
        #expect((0..<3).map(layout.sourceSymbols(inBlock:)) == [261, 261, 260])
        #expect(layout.blockOffset(2) == 522 * 64)
        #expect(layout.blockLength(2) == 50_001 - 522 * 64)
        #expect(layout.subSymbolSizes == [24, 20, 20] && layout.subSymbolOffsets == [0, 24, 44])
    }

    @Test(arguments: [
        (50_001, 64, 3, 4, 4),   // three blocks, four sub-blocks
        (9_999, 10, 2, 3, 1),    // sub-symbols of 4, 3 and 3 bytes
        (4_096, 256, 1, 1, 8),   // exactly 16 symbols, no padding
        (1, 8, 1, 1, 8),         // a one-byte object
    ])
    func objectRoundTrips(size: Int, t: Int, z: Int, n: Int, al: Int) throws {
        var random = SplitMix64(seed: UInt64(size))
        let data = random.bytes(size)
        let oti = try ObjectTransmissionInformation(transferLength: UInt64(size), symbolSize: t, sourceBlocks: z, subBlocks: n, alignment: al)
        let encoder = ObjectEncoder(oti)
        let packets = try encoder.encodedPackets(of: data, repairPerBlock: encoder.layout.sourceSymbols(inBlock: 0) / 2 + 2)
        // Source packets carry the object's bytes through the sub-block layout.
        let first = packets[0]
        #expect(first.count == 4 + t && first[0] == 0 && first[1] == 0 && first[2] == 0 && first[3] == 0)
        // Lose a fifth of all packets, shuffle, decode.
        var kept = packets.filter { _ in random.next() % 5 != 0 }
        kept.shuffle(using: &random)
        let decoder = ObjectPacketDecoder(oti)
        var result: [UInt8]?
        for packet in kept where result == nil { result = try decoder.add(packet: packet) }
        #expect(result == data, "decoded \(result?.count ?? -1) bytes")
        #expect(decoder.isComplete)
    }

    @Test func decoderRefusesPacketsThatDoNotBelong() throws {
        let oti = try ObjectTransmissionInformation(transferLength: 1000, packetSize: 100)
        let decoder = ObjectPacketDecoder(oti)
        #expect(throws: RaptorQError.self) { try decoder.add(packet: [0, 0, 0, 1]) }
        #expect(throws: RaptorQError.self) { try decoder.add(packet: [UInt8](repeating: 0, count: 4 + 99)) }
        #expect(throws: RaptorQError.self) { try decoder.add(packet: [7] + [UInt8](repeating: 0, count: 3 + 96)) }
        let empty = ObjectPacketDecoder(try ObjectTransmissionInformation(transferLength: 0, packetSize: 100))
        #expect(empty.isComplete)
    }

    @Test func blockDecodeWithTooFewSymbolsFails() throws {
        let oti = try ObjectTransmissionInformation(transferLength: 1000, packetSize: 100)
        var object = [UInt8](repeating: 0, count: 1000)
        let data = [UInt8](repeating: 9, count: 100)
        data.withUnsafeBytes { symbol in
            object.withUnsafeMutableBytes { target in
                let symbols = (0..<5).map { ReceivedSymbol(esi: UInt32($0), data: symbol.baseAddress!) }
                #expect(throws: RaptorQError.self) { try ObjectDecoder(oti).decodeBlock(0, symbols: symbols, into: target) }
                #expect(throws: RaptorQError.self) { try ObjectDecoder(oti).decodeBlock(1, symbols: symbols, into: target) }
            }
        }
    }
}
