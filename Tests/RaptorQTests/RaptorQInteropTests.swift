import Metainfo
import Foundation
import Testing
import TestSupport
@testable import RaptorQ

/// Cross-checks with raptorq 2.0.0 (PyPI, the Rust implementation) through
/// scripts/interop/raptorq_tool.py and Debian's /usr/bin/python3: packets
/// byte-identical for every ESI from 0 to K+30, each side decoding the other's
/// packets with 10 % of the source packets lost, and from repair packets only.
@Suite(.serialized) struct RaptorQInteropTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let size: Int
        let packetSize: Int
        /// Whether to check decoding from repair packets only (needs K more repair packets).
        let repairOnly: Bool
        var testDescription: String { "F=\(size) T=\(packetSize)" }
    }

    static let cases = [
        Case(size: 1_000_000, packetSize: 1280, repairOnly: true),
        Case(size: 1_048_576, packetSize: 1024, repairOnly: true),
        Case(size: 123_457, packetSize: 1024, repairOnly: true),
        Case(size: 262_144, packetSize: 16384, repairOnly: true),
        Case(size: 4 << 20, packetSize: 16384, repairOnly: true),
        // Above raptorq's 10 MiB of decoder memory: two sub-blocks per symbol.
        Case(size: 16 << 20, packetSize: 1280, repairOnly: false),
        // More than K'max = 56,403 symbols: two source blocks.
        Case(size: 4_000_000, packetSize: 64, repairOnly: false),
    ]

    static let tool = Paths.repoRoot.appendingPathComponent("scripts/interop/raptorq_tool.py").path

    struct InteropFailure: Error, CustomStringConvertible {
        let description: String
    }

    static func requireRaptorq() async throws {
        let probe = try await ChildProcess.run(Paths.systemPython, [
            "-c", "import raptorq, importlib.metadata as m; assert m.version('raptorq') == '2.0.0', m.version('raptorq')",
        ], timeout: 30)
        guard probe.succeeded else {
            throw InteropFailure(description: "raptorq 2.0.0 is missing from \(Paths.systemPython) (run scripts/setup): \(probe.stderr)")
        }
    }

    static func python(_ arguments: [String], timeout: Double = 120) async throws -> ProcessResult {
        let result = try await ChildProcess.run(Paths.systemPython, [tool] + arguments, timeout: timeout)
        guard result.succeeded else {
            throw InteropFailure(description: "raptorq_tool.py \(arguments.first ?? "") failed: \(result.stderr.suffix(2000))")
        }
        return result
    }

    static func packets(in data: Data, size: Int) -> [[UInt8]] {
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }

    static func esi(_ packet: [UInt8]) -> UInt32 { UInt32(packet[1]) << 16 | UInt32(packet[2]) << 8 | UInt32(packet[3]) }

    @Test(arguments: cases)
    func packetsAreIdenticalAndDecodeBothWays(_ testCase: Case) async throws {
        try await Self.requireRaptorq()
        let directory = try TemporaryDirectory("bf-raptorq")
        var random = SplitMix64(seed: UInt64(testCase.size))
        let data = random.bytes(testCase.size)
        try Data(data).write(to: URL(fileURLWithPath: directory.file("object")))

        let encoder = try ObjectEncoder(transferLength: testCase.size, packetSize: testCase.packetSize)
        let layout = encoder.layout
        let blockSizes = (0..<layout.blockCount).map(layout.sourceSymbols(inBlock:))
        let k = blockSizes.max()!
        let repair = testCase.repairOnly ? k + 40 : k / 10 + 40
        let packetSize = encoder.packetSize
        let total = blockSizes.reduce(0, +) + repair * blockSizes.count

        // Their packets, ours: identical bytes, payload IDs included.
        _ = try await Self.python(["encode", directory.file("object"), directory.file("theirs"), "\(testCase.packetSize)", "\(repair)"])
        let theirs = Self.packets(in: try Data(contentsOf: URL(fileURLWithPath: directory.file("theirs"))), size: packetSize)
        let ours = try encoder.encodedPackets(of: data, repairPerBlock: repair)
        #expect(theirs.count == total && ours.count == total)
        let firstMismatch = ours.indices.first { $0 >= theirs.count || ours[$0] != theirs[$0] }
        #expect(firstMismatch == nil, "first differing packet: \(firstMismatch ?? -1) of \(total)")
        #expect(theirs.prefix(blockSizes[0] + 31).map(Self.esi) == (0..<UInt32(blockSizes[0] + 31)).map { $0 })

        // Every 10th source packet of each block lost (plus a random 0–9 offset), repair packets kept.
        let offset = UInt32(random.next() % 10)
        func lossy(_ packets: [[UInt8]]) -> [[UInt8]] {
            packets.filter { Self.esi($0) >= UInt32(blockSizes[Int($0[0])]) || Self.esi($0) % 10 != offset }
        }
        func repairOnly(_ packets: [[UInt8]]) -> [[UInt8]] { packets.filter { Self.esi($0) >= UInt32(blockSizes[Int($0[0])]) } }

        // We decode theirs.
        var feeds = [lossy(theirs)]
        if testCase.repairOnly { feeds.append(repairOnly(theirs)) }
        for feed in feeds {
            let decoder = ObjectPacketDecoder(encoder.oti)
            var result: [UInt8]?
            for packet in feed.shuffled(using: &random) where result == nil { result = try decoder.add(packet: packet) }
            #expect(result == data, "our decoder on raptorq's packets (\(feed.count) packets)")
        }

        // They decode ours (in shuffled order).
        feeds = [lossy(ours)]
        if testCase.repairOnly { feeds.append(repairOnly(ours)) }
        for feed in feeds {
            let packetFile = directory.file("ours"), output = directory.file("decoded")
            try Data(feed.shuffled(using: &random).joined()).write(to: URL(fileURLWithPath: packetFile))
            try? FileManager.default.removeItem(atPath: output)
            _ = try await Self.python(["decode", packetFile, output, "\(testCase.size)", "\(testCase.packetSize)"])
            let decoded = try Data(contentsOf: URL(fileURLWithPath: output))
            #expect(decoded == Data(data), "raptorq's decoder on our packets (\(feed.count) packets)")
        }
    }
}
