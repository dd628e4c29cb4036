import Metainfo
import CKernels
import Foundation
import Testing
import TestSupport
@testable import RaptorQ

/// Every SIMD path of CKernels must give the same bytes as the scalar path, and
/// the scalar path must agree with GF(256) arithmetic done the slow way.
@Suite struct KernelTests {
    static let lengths = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 4099, 16387]
    static let coefficients: [UInt8] = [0, 1, 2, 3, 0x1D, 0x8E, 0xFF]

    static var supportedPaths: [Int32] {
        (0..<Int32(BF_PATH_COUNT)).filter { bf_kernel_path_supported($0) != 0 }
    }

    /// Multiplication in GF(2^8) mod 0x11D by shift-and-add, independent of every table.
    static func slowMultiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var product = 0, x = Int(a)
        for bit in 0..<8 {
            if b & UInt8(1 << bit) != 0 { product ^= x }
            x <<= 1
            if x & 0x100 != 0 { x ^= 0x11D }
        }
        return UInt8(product)
    }

    /// The dispatcher offers every path this CPU has and runs the fastest; else
    /// the tests below would compare the scalar path with itself and pass.
    @Test func everyPathTheCPUHasIsOfferedAndTheFastestRuns() throws {
        #if os(Linux) && arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagLine = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let flags = Set(flagLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }).map(String.init))
        #expect(flags.contains("sse2"), "no CPU flags in /proc/cpuinfo")
        let ssse3 = flags.contains("ssse3")
        let avx2 = ssse3 && flags.contains("avx2")
        let avx512 = avx2 && flags.contains("avx512f") && flags.contains("avx512bw")
        let gfni = avx512 && flags.contains("gfni")
        let expected: [(Int32, Bool)] = [(Int32(BF_PATH_SCALAR), true), (Int32(BF_PATH_SSSE3), ssse3), (Int32(BF_PATH_AVX2), avx2),
                                         (Int32(BF_PATH_AVX512), avx512), (Int32(BF_PATH_AVX512_GFNI), gfni)]
        for (path, present) in expected {
            #expect((bf_kernel_path_supported(path) != 0) == present, "\(String(cString: bf_kernel_path_name(path)))")
        }
        #expect(bf_kernel_active_path() == expected.last { $0.1 }!.0)
        #endif
        #expect(bf_kernel_active_path() == Self.supportedPaths.max())
    }

    @Test func scalarPathMatchesFieldArithmetic() {
        var random = SplitMix64(seed: 1)
        for c in Self.coefficients {
            let src = random.bytes(300), start = random.bytes(300)
            var dst = start
            dst.withUnsafeMutableBytes { d in src.withUnsafeBytes { s in
                bf_gf256_muladd_on(Int32(BF_PATH_SCALAR), d.baseAddress, s.baseAddress, c, 300)
            } }
            #expect(dst == zip(start, src).map { $0 ^ Self.slowMultiply(c, $1) })
            var scaled = start
            scaled.withUnsafeMutableBytes { bf_gf256_scale_on(Int32(BF_PATH_SCALAR), $0.baseAddress, c, 300) }
            #expect(scaled == start.map { Self.slowMultiply(c, $0) })
        }
        for a in 0...255 {
            for b in [0, 1, 2, 7, 0x53, 0xCA, 0xFF] {
                #expect(GF256.multiply(UInt8(a), UInt8(b)) == Self.slowMultiply(UInt8(a), UInt8(b)))
            }
        }
    }

    @Test func everyPathGivesIdenticalBytes() {
        var random = SplitMix64(seed: 2)
        #expect(Self.supportedPaths.contains(Int32(BF_PATH_SCALAR)))
        for path in Self.supportedPaths {
            for n in Self.lengths {
                let a = random.bytes(n), b = random.bytes(n), start = random.bytes(n)
                func both(_ body: (Int32, UnsafeMutableRawPointer?) -> Void) -> Bool {
                    var expected = start, actual = start
                    expected.withUnsafeMutableBytes { body(Int32(BF_PATH_SCALAR), $0.baseAddress) }
                    actual.withUnsafeMutableBytes { body(path, $0.baseAddress) }
                    return expected == actual
                }
                a.withUnsafeBytes { pa in
                    b.withUnsafeBytes { pb in
                        #expect(both { bf_xor_on($0, $1, pa.baseAddress, n) }, "xor path \(path) n \(n)")
                        #expect(both { bf_xor3_on($0, $1, pa.baseAddress, pb.baseAddress, n) }, "xor3 path \(path) n \(n)")
                        for c in Self.coefficients {
                            #expect(both { bf_gf256_muladd_on($0, $1, pa.baseAddress, c, n) }, "muladd \(c) path \(path) n \(n)")
                            #expect(both { bf_gf256_scale_on($0, $1, c, n) }, "scale \(c) path \(path) n \(n)")
                            #expect(both { bf_gf256_scale_xor_on($0, $1, pa.baseAddress, c, n) }, "scale_xor \(c) path \(path) n \(n)")
                        }
                    }
                }
            }
        }
    }

    @Test func multiSourceSumsMatchOnEveryPath() {
        var random = SplitMix64(seed: 3)
        for path in Self.supportedPaths {
            for n in [0, 1, 33, 64, 200, 513, 1000] {
                for count in [0, 1, 2, 5, 9] {
                    let sources = (0..<count).map { _ in random.bytes(max(n, 1)) }
                    let coefficients = (0..<count).map { _ in Self.coefficients.randomElement(using: &random)! }
                    let start = random.bytes(max(n, 1))
                    for accumulate in [Int32(0), 1] {
                        // Reference: Swift arithmetic.
                        var reference = accumulate == 1 ? start : [UInt8](repeating: 0, count: start.count)
                        var referenceMul = reference
                        for (source, c) in zip(sources, coefficients) {
                            for i in 0..<n {
                                reference[i] ^= source[i]
                                referenceMul[i] ^= Self.slowMultiply(c, source[i])
                            }
                        }
                        var xorResult = start, mulResult = start
                        withPointers(sources) { pointers in
                            xorResult.withUnsafeMutableBytes { bf_xor_sum_on(path, $0.baseAddress, pointers, count, n, accumulate) }
                            mulResult.withUnsafeMutableBytes { d in
                                coefficients.withUnsafeBufferPointer { c in
                                    bf_mul_sum_on(path, d.baseAddress, pointers, c.baseAddress, count, n, accumulate)
                                }
                            }
                        }
                        #expect(Array(xorResult.prefix(n)) == Array(reference.prefix(n)), "xor_sum path \(path) n \(n) count \(count)")
                        #expect(Array(mulResult.prefix(n)) == Array(referenceMul.prefix(n)), "mul_sum path \(path) n \(n) count \(count)")
                    }
                }
            }
        }
    }

    @Test func bitsAddAsBytesOnEveryPath() {
        var random = SplitMix64(seed: 5)
        for path in Self.supportedPaths {
            for bits in [1, 63, 64, 65, 200, 508, 1024] {
                let words = (0..<((bits + 63) / 64)).map { _ in random.next() }
                let start = random.bytes(bits)
                var result = start
                result.withUnsafeMutableBufferPointer { d in
                    words.withUnsafeBufferPointer { bf_xor_bits_as_bytes_on(path, d.baseAddress, $0.baseAddress, bits) }
                }
                let expected = (0..<bits).map { start[$0] ^ UInt8(truncatingIfNeeded: words[$0 / 64] >> UInt64($0 % 64) & 1) }
                #expect(result == expected, "path \(path) bits \(bits)")
            }
        }
    }

    @Test func stripedProgramEqualsUnstriped() {
        // A program touching every operation kind, run in one stripe and in odd stripes.
        var builder = SymbolProgramBuilder(fixedSlots: 6)
        builder.assignSum(3, [0, 1, 2])
        builder.xor(3, 1)
        builder.mulAdd(4, 0, 0x53)
        builder.mulAdd(4, 3, 1)
        builder.scale(4, 0x0F)
        builder.scaleXor(5, 2, 4)
        builder.assignLinearCombination(2, [(0, 7), (1, 1), (3, 0xEE)])
        builder.zero(1)
        let program = builder.finish()
        var random = SplitMix64(seed: 4)
        let n = 5000
        let initial = (0..<6).map { _ in random.bytes(n) }
        func run(stripe: Int) -> [[UInt8]] {
            var symbols = initial
            let buffers = symbols.indices.map { _ in UnsafeMutablePointer<UInt8>.allocate(capacity: n) }
            defer { buffers.forEach { $0.deallocate() } }
            for (index, buffer) in buffers.enumerated() { buffer.initialize(from: symbols[index], count: n) }
            let slots: [UnsafeMutablePointer<UInt8>?] = buffers
            slots.withUnsafeBufferPointer { program.run(slots: $0.baseAddress!, offset: 0, length: n, stripe: stripe) }
            for index in symbols.indices { symbols[index] = Array(UnsafeBufferPointer(start: buffers[index], count: n)) }
            return symbols
        }
        let whole = run(stripe: 0)
        #expect(run(stripe: 1000) == whole)
        #expect(run(stripe: 64) == whole)
        #expect(whole[1] == [UInt8](repeating: 0, count: n))
        let expected3 = (0..<n).map { initial[0][$0] ^ initial[2][$0] }
        #expect(whole[3] == expected3)
    }

    /// Operations with more sources than the runner gathers at once (64) go in
    /// batches; every batch after the first must add to the result, not replace it.
    @Test func operationsWithManySourcesSumThemAll() {
        var random = SplitMix64(seed: 6)
        let n = 777, inputs = 150
        var builder = SymbolProgramBuilder(fixedSlots: inputs + 3)
        let sum = Int32(inputs), combination = Int32(inputs + 1), added = Int32(inputs + 2)
        let coefficients = (0..<inputs).map { _ in UInt8(1 + random.next() % 255) }
        builder.assignSum(sum, (0..<Int32(inputs)).map { $0 })
        builder.assignLinearCombination(combination, (0..<inputs).map { (Int32($0), coefficients[$0]) })
        for i in 0..<Int32(inputs) { builder.xor(added, i) }
        let program = builder.finish()
        #expect(program.ops.count == 3)
        let symbols = (0..<(inputs + 3)).map { _ in random.bytes(n) }
        var expectedSum = [UInt8](repeating: 0, count: n), expectedCombination = expectedSum, expectedAdded = symbols[inputs + 2]
        for (i, symbol) in symbols.prefix(inputs).enumerated() {
            for b in 0..<n {
                expectedSum[b] ^= symbol[b]
                expectedCombination[b] ^= Self.slowMultiply(coefficients[i], symbol[b])
                expectedAdded[b] ^= symbol[b]
            }
        }
        let buffers = symbols.map { symbol -> UnsafeMutablePointer<UInt8> in
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
            buffer.initialize(from: symbol, count: n)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let slots: [UnsafeMutablePointer<UInt8>?] = buffers
        slots.withUnsafeBufferPointer { program.run(slots: $0.baseAddress!, offset: 0, length: n, stripe: 0) }
        #expect(Array(UnsafeBufferPointer(start: buffers[inputs], count: n)) == expectedSum)
        #expect(Array(UnsafeBufferPointer(start: buffers[inputs + 1], count: n)) == expectedCombination)
        #expect(Array(UnsafeBufferPointer(start: buffers[inputs + 2], count: n)) == expectedAdded)
    }

    /// Copies of `arrays` at odd addresses (source i starts i + 1 bytes past an
    /// aligned allocation), so the kernels' unaligned loads are exercised too.
    private func withPointers(_ arrays: [[UInt8]], _ body: (UnsafePointer<UnsafeRawPointer?>) -> Void) {
        let copies = arrays.enumerated().map { i, array -> UnsafeMutableRawPointer in
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(array.count, 1) + i + 1, alignment: 64)
            array.withUnsafeBytes { (p + i + 1).copyMemory(from: $0.baseAddress!, byteCount: array.count) }
            return p
        }
        defer { copies.forEach { $0.deallocate() } }
        let pointers: [UnsafeRawPointer?] = copies.enumerated().map { UnsafeRawPointer($1 + $0 + 1) } + [nil]
        pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
