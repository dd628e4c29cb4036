import Crypto
import Testing
import TestSupport
@testable import RaptorQ

/// The RFC 6330 tables and derived parameters, checked against the RFC text.
@Suite struct TablesTests {
    /// SHA-256 over Table 2 (§5.6) as five big-endian 32-bit words per row, computed
    /// from the text of RFC 6330 itself.
    @Test func systematicIndexTableMatchesTheRFC() {
        var bytes: [UInt8] = []
        for index in 0..<SystematicIndexTable.rowCount {
            let row = SystematicIndexTable.row(at: index)
            for value in [row.extendedSymbols, row.systematicIndex, row.ldpcSymbols, row.hdpcSymbols, row.ltSymbols] {
                bytes += [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            }
        }
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        #expect(SystematicIndexTable.rowCount == 477)
        #expect(digest == "9d3657cf3255cf51f9a93b762a37fbe740598e3b14259acc5641abedcd0da7d6")
        #expect(SystematicIndexTable.row(at: 0) == .init(extendedSymbols: 10, systematicIndex: 254, ldpcSymbols: 7, hdpcSymbols: 10, ltSymbols: 17))
        #expect(SystematicIndexTable.row(at: 476) == .init(extendedSymbols: 56403, systematicIndex: 471, ldpcSymbols: 907, hdpcSymbols: 16, ltSymbols: 56951))
    }

    @Test func tableRowsHaveTheRFCsProperties() {
        var previous = 0
        for index in 0..<SystematicIndexTable.rowCount {
            let row = SystematicIndexTable.row(at: index)
            #expect(row.extendedSymbols > previous)
            previous = row.extendedSymbols
            #expect(CodeParameters.isPrime(row.ldpcSymbols) && CodeParameters.isPrime(row.ltSymbols))
            // P ≥ H (so the HDPC symbols are among the PI symbols and HDPC rows never need choosing in phase 1).
            #expect(row.extendedSymbols + row.ldpcSymbols >= row.ltSymbols)
        }
    }

    /// First and last entries, sum mod 2^32 and XOR of each table V0..V3 (§5.5), from the RFC text.
    @Test func randTablesMatchTheRFC() {
        let expected: [(UInt32, UInt32, UInt32, UInt32)] = [
            (251_291_136, 1_358_307_511, 331_395_769, 2_200_914_733),
            (807_385_413, 4_135_048_896, 3_270_332_586, 3_069_643_552),
            (1_629_829_892, 3_497_665_928, 1_176_160_967, 620_986_173),
            (1_191_369_816, 3_432_275_192, 3_374_522_247, 1_772_968_547),
        ]
        for (table, want) in zip([RandTables.v0, RandTables.v1, RandTables.v2, RandTables.v3], expected) {
            #expect(table.count == 256)
            let sum = table.reduce(UInt32(0), &+)
            let xor = table.reduce(UInt32(0), ^)
            #expect(table.first == want.0 && table.last == want.1 && sum == want.2 && xor == want.3)
        }
    }

    @Test func octetTablesMatchTheRFC() {
        #expect(GF256.exp[0] == 1 && GF256.exp[8] == 29 && GF256.exp[509] == 142)
        #expect(GF256.log[1] == 0 && GF256.log[2] == 1 && GF256.log[255] == 175)
        for a in 1...255 {
            #expect(GF256.exp[Int(GF256.log[a])] == UInt8(a))
            #expect(GF256.multiply(UInt8(a), GF256.inverse(UInt8(a))) == 1)
        }
    }

    @Test func degreeDistributionFollowsTable1() {
        #expect(RQRandom.degreeBounds.count == 31 && RQRandom.degreeBounds[30] == 1 << 20)
        #expect(RQRandom.degree(0, ltSymbols: 1000) == 1)
        #expect(RQRandom.degree(5242, ltSymbols: 1000) == 1)
        #expect(RQRandom.degree(5243, ltSymbols: 1000) == 2)
        #expect(RQRandom.degree(1_048_575, ltSymbols: 1000) == 30)
        #expect(RQRandom.degree(1_048_575, ltSymbols: 17) == 15) // capped at W - 2
    }

    @Test func parametersFollowFromK() throws {
        let one = try CodeParameters(sourceSymbols: 1)
        #expect(one.extendedSymbols == 10 && one.intermediateSymbols == 27 && one.piSymbols == 10 && one.p1 == 11)
        let k782 = try CodeParameters(sourceSymbols: 782)
        #expect(k782.extendedSymbols >= 782)
        #expect(k782.internalSymbolID(forESI: 781) == 781)
        #expect(k782.internalSymbolID(forESI: 782) == UInt32(k782.extendedSymbols))
        #expect(throws: RaptorQError.self) { try CodeParameters(sourceSymbols: 0) }
        #expect(throws: RaptorQError.self) { try CodeParameters(sourceSymbols: 56404) }
        #expect(try CodeParameters(sourceSymbols: 56403).extendedSymbols == 56403)
    }

    /// Every K' of Table 2 yields an invertible encoding matrix (the point of the
    /// systematic indices); checked for a spread of rows, the largest included.
    @Test(.cpuBound) func encodingMatricesAreInvertible() throws {
        for index in Array(stride(from: 0, to: 477, by: 29)) + [476] {
            let kPrime = SystematicIndexTable.row(at: index).extendedSymbols
            let parameters = try CodeParameters(sourceSymbols: kPrime)
            let l = parameters.intermediateSymbols
            let equations = (0..<kPrime).map { BlockSolver.Equation(isi: UInt32($0), rhs: Int32(l + $0)) }
            #expect(BlockSolver.plan(parameters: parameters, equations: equations, fixedSlots: l + kPrime) != nil, "K' = \(kPrime)")
        }
    }
}
