import Metainfo
import Foundation
import RaptorQ
import Testing
import TestSupport

/// `bitfountain fec encode|decode` as a user runs it.
@Suite(.serialized) struct FecCommandTests {
    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
    static func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// The packets of an .rq file (after its 12-byte header).
    static func packets(_ rq: [UInt8]) -> (header: [UInt8], packets: [[UInt8]]) {
        let t = Int(rq[6]) << 8 | Int(rq[7])
        let body = Array(rq[12...])
        return (Array(rq[..<12]), stride(from: 0, to: body.count - body.count % (4 + t), by: 4 + t).map { Array(body[$0..<($0 + 4 + t)]) })
    }

    /// `size` random bytes written to `name` in `directory`.
    static func input(_ size: Int, seed: UInt64, in directory: TemporaryDirectory, name: String = "data") throws -> [UInt8] {
        var random = SplitMix64(seed: seed)
        let data = random.bytes(size)
        try write(data, directory.file(name))
        return data
    }

    @Test func encodeThenDecodeFromAShuffledSubset() async throws {
        let directory = try TemporaryDirectory("bf-fec")
        var random = SplitMix64(seed: 121)
        let data = try Self.input(3_000_001, seed: 21, in: directory)
        let encoded = try await ChildProcess.bitfountain(["fec", "encode", directory.file("data"), "-o", directory.file("data.rq"),
                                                          "--repair", "12%", "--json"])
        #expect(encoded.succeeded, "\(encoded.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(encoded.stdout.utf8)) as? [String: Any]
        #expect(report?["event"] as? String == "encoded")
        #expect(report?["bytes"] as? Int == data.count)
        let symbolSize = report?["symbol_size"] as? Int ?? 0
        #expect(symbolSize >= 1280 && symbolSize % 8 == 0)

        // Lose 9 % of the packets anywhere, shuffle the rest.
        let (header, packets) = Self.packets(try Self.read(directory.file("data.rq")))
        var kept = packets.filter { _ in random.next() % 100 >= 9 }
        kept.shuffle(using: &random)
        try Self.write(header + kept.joined(), directory.file("damaged.rq"))
        let decoded = try await ChildProcess.bitfountain(["fec", "decode", directory.file("damaged.rq"), "-o", directory.file("out")])
        #expect(decoded.succeeded, "\(decoded.stderr)")
        #expect(try Self.read(directory.file("out")) == data)
        #expect(decoded.stdout.contains("rebuilt with"))

        // Without --force an existing output is left alone.
        let again = try await ChildProcess.bitfountain(["fec", "decode", directory.file("damaged.rq"), "-o", directory.file("out")])
        #expect(!again.succeeded && again.stderr.contains("already exists"))
    }

    @Test func manyBlocksTakeTurnsSoATruncatedFileStillDecodes() async throws {
        let directory = try TemporaryDirectory("bf-fec")
        let data = try Self.input(4_000_000, seed: 22, in: directory)
        let encoded = try await ChildProcess.bitfountain(["fec", "encode", directory.file("data"), "-o", directory.file("data.rq"),
                                                          "--symbol-size", "64", "--repair", "10%"], timeout: 120)
        #expect(encoded.succeeded, "\(encoded.stderr)")
        let rq = try Self.read(directory.file("data.rq"))
        #expect(rq[8] == 2) // Z = 2 source blocks
        // Cut the last 7 % of the file (and half a packet).
        let cut = rq.count - rq.count * 7 / 100 - 30
        try Self.write(Array(rq[..<cut]), directory.file("cut.rq"))
        let decoded = try await ChildProcess.bitfountain(["fec", "decode", directory.file("cut.rq"), "-o", directory.file("out"), "--json"],
                                                         timeout: 120)
        #expect(decoded.succeeded, "\(decoded.stderr)")
        #expect(decoded.stdout.contains("\"truncated_bytes\":"))
        #expect(try Self.read(directory.file("out")) == data)
    }

    @Test func damagedOrLyingFilesGetClearErrors() async throws {
        let directory = try TemporaryDirectory("bf-fec")
        _ = try Self.input(200_000, seed: 23, in: directory)
        let encoded = try await ChildProcess.bitfountain(["fec", "encode", directory.file("data"), "-o", directory.file("data.rq")])
        #expect(encoded.succeeded)
        let rq = try Self.read(directory.file("data.rq"))

        func decodeFails(_ bytes: [UInt8], saying text: String) async throws {
            try Self.write(bytes, directory.file("bad.rq"))
            let result = try await ChildProcess.bitfountain(["fec", "decode", directory.file("bad.rq"), "-o", directory.file("bad.out")])
            #expect(!result.succeeded && result.status != 0, "decode should fail (\(text))")
            #expect(result.stderr.contains(text), "stderr: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.file("bad.out")))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".bad.out") }
            #expect(leftovers.isEmpty)
        }
        try await decodeFails(Array(rq[..<7]), saying: "shorter than its 12-byte header")
        try await decodeFails(Array(rq[..<(rq.count / 2)]), saying: "packets are missing")
        var huge = rq
        for i in 0..<5 { huge[i] = 0xFF } // F beyond RFC 6330's limit
        try await decodeFails(huge, saying: "not a usable .rq header")
        var noSymbols = rq
        noSymbols[6] = 0; noSymbols[7] = 0 // T = 0
        try await decodeFails(noSymbols, saying: "not a usable .rq header")
        var manyBlocks = rq
        manyBlocks[8] = 200 // Z larger than the symbol count allows
        try await decodeFails(manyBlocks, saying: "not a usable .rq header")
        var bigger = rq
        bigger[2] = 0x04 // F grows by a third: its block now lacks packets
        try await decodeFails(bigger, saying: "packets are missing")

        // Enough packets by count that still do not determine the block: the decode
        // fails after the output was opened. Nothing is left behind, and an existing
        // file that --force would have replaced stays as it was.
        let dependent = try #require(try (UInt32(1)..<10_000).first { try !BlockDecoder.isDecodable(sourceSymbolCount: 1, esis: [$0]) })
        let oneRepairPacket: [UInt8] = [0, 0, 0, 0, 100, 0, 0, 128, 1, 0, 1, 8] // F = 100, T = 128: one block of K = 1
            + [0, UInt8(dependent >> 16), UInt8(dependent >> 8 & 0xFF), UInt8(dependent & 0xFF)] + [UInt8](repeating: 0x5A, count: 128)
        try await decodeFails(oneRepairPacket, saying: "cannot decode")
        try Self.write([1, 2, 3], directory.file("kept.out"))
        let forced = try await ChildProcess.bitfountain(["fec", "decode", directory.file("bad.rq"), "-o", directory.file("kept.out"), "--force"])
        #expect(forced.status == 1 && forced.stderr.contains("cannot decode"), "\(forced.stderr)")
        #expect(try Self.read(directory.file("kept.out")) == [1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".kept.out") }.isEmpty)

        let badSize = try await ChildProcess.bitfountain(["fec", "encode", directory.file("data"), "-o", directory.file("x.rq"),
                                                          "--symbol-size", "100"])
        #expect(!badSize.succeeded && badSize.stderr.contains("--symbol-size"))
        let badRepair = try await ChildProcess.bitfountain(["fec", "encode", directory.file("data"), "-o", directory.file("x.rq"),
                                                            "--repair", "lots"])
        #expect(!badRepair.succeeded && badRepair.stderr.contains("--repair"))
        // A count so large that spreading it over the blocks would overflow: an error, not a crash.
        let hugeRepair = try await ChildProcess.bitfountain(["fec", "encode", directory.file("data"), "-o", directory.file("x.rq"),
                                                             "--repair", "\(Int.max)"])
        #expect(hugeRepair.status == 1 && hugeRepair.stderr.contains("--repair"), "\(hugeRepair.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("x.rq")))
        let missing = try await ChildProcess.bitfountain(["fec", "encode", directory.file("nothing-here"), "-o", directory.file("x.rq")])
        #expect(!missing.succeeded && missing.stderr.contains("cannot open"))
    }

    /// A hostile .rq file: a 10-byte object (T = 1, one block of K = 10) followed by
    /// 8 million distinct repair packets. The decoder needs a dozen of them; it must
    /// not index them all (16 bytes of memory per 5-byte packet, and more to dedupe).
    @Test func surplusPacketsDoNotGrowMemory() async throws {
        let directory = try TemporaryDirectory("bf-fec")
        let count = 8_000_000
        let header: [UInt8] = [0, 0, 0, 0, 10, 0, 0, 1, 1, 0, 1, 1] // F = 10, T = 1, Z = 1, N = 1, Al = 1
        let body = [UInt8](unsafeUninitializedCapacity: count * 5) { buffer, initialized in
            for n in 0..<count {
                let esi = 10 + n
                buffer[n * 5] = 0
                buffer[n * 5 + 1] = UInt8(truncatingIfNeeded: esi >> 16)
                buffer[n * 5 + 2] = UInt8(truncatingIfNeeded: esi >> 8)
                buffer[n * 5 + 3] = UInt8(truncatingIfNeeded: esi)
                buffer[n * 5 + 4] = 7
            }
            initialized = count * 5
        }
        try Self.write(header + body, directory.file("hostile.rq"))
        // 200 MB of heap: several times what decoding needs, well below what indexing every packet took.
        let command = "ulimit -d 200000 && exec \"$0\" fec decode \"$1\" -o \"$2\""
        let result = try await ChildProcess.run("/bin/sh", ["-c", command, Paths.binary, directory.file("hostile.rq"),
                                                             directory.file("out")], timeout: 60)
        #expect(result.succeeded, "status \(result.status): \(result.stderr.prefix(500))")
        #expect(result.stdout.contains("packets  \(count) read"), "\(result.stdout)")
        #expect(try Self.read(directory.file("out")).count == 10)
    }

    @Test func emptyFilesRoundTrip() async throws {
        let directory = try TemporaryDirectory("bf-fec")
        try Self.write([], directory.file("empty"))
        let encoded = try await ChildProcess.bitfountain(["fec", "encode", directory.file("empty"), "-o", directory.file("empty.rq")])
        #expect(encoded.succeeded, "\(encoded.stderr)")
        #expect(try Self.read(directory.file("empty.rq")).count == 12)
        let decoded = try await ChildProcess.bitfountain(["fec", "decode", directory.file("empty.rq"), "-o", directory.file("out")])
        #expect(decoded.succeeded, "\(decoded.stderr)")
        #expect(try Self.read(directory.file("out")).isEmpty)
    }

    /// The .rq packets are raptorq's: its decoder rebuilds the file from them.
    @Test func raptorqDecodesTheRqPackets() async throws {
        let directory = try TemporaryDirectory("bf-fec")
        let data = try Self.input(1_000_000, seed: 24, in: directory)
        let encoded = try await ChildProcess.bitfountain(["fec", "encode", directory.file("data"), "-o", directory.file("data.rq"),
                                                          "--symbol-size", "1280", "--repair", "15%"])
        #expect(encoded.succeeded, "\(encoded.stderr)")
        let (header, packets) = Self.packets(try Self.read(directory.file("data.rq")))
        #expect(header.map { String(format: "%02x", $0) }.joined() == "00000f424000050001000108")
        // Every 8th source packet lost; raptorq gets the rest, repair packets included.
        let kept = packets.enumerated().filter { $0.offset >= 782 || $0.offset % 8 != 3 }.map(\.element)
        try Self.write(Array(kept.joined()), directory.file("packets"))
        let tool = Paths.repoRoot.appendingPathComponent("scripts/interop/raptorq_tool.py").path
        let result = try await ChildProcess.run(Paths.systemPython, [tool, "decode", directory.file("packets"), directory.file("out"),
                                                                     "1000000", "1280"], timeout: 60)
        #expect(result.succeeded, "raptorq: \(result.stderr)")
        #expect(try Self.read(directory.file("out")) == data)
    }
}
