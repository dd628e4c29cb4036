import Foundation
import RaptorQ

/// One BitTorrent piece as one source block (DESIGN §5): T = 16 KiB.
struct PieceCase {
    static let symbolSize = 16384
    let k: Int
    let data: [UInt8]
    let repairCount: Int
    /// 90 % of the source symbols (every 10th lost), then repair symbols.
    let lossyPackets: [(UInt32, [UInt8])]
    /// Repair symbols only.
    let repairPackets: [(UInt32, [UInt8])]
    /// The piece buffer decodes write into, reused from run to run as the
    /// swarm reuses its piece buffers.
    let output: UnsafeMutableRawBufferPointer

    init(k: Int) throws {
        self.k = k
        data = BenchBytes.random(k * Self.symbolSize)
        repairCount = (k * 15 + 99) / 100
        let encoder = try BlockEncoder(source: data, symbolSize: Self.symbolSize)
        var lossy: [(UInt32, [UInt8])] = []
        for i in 0..<k where i % 10 != 9 { lossy.append((UInt32(i), try encoder.symbol(esi: UInt32(i)))) }
        for r in 0..<repairCount { lossy.append((UInt32(k + r), try encoder.symbol(esi: UInt32(k + r)))) }
        lossyPackets = lossy
        repairPackets = try (0..<(k + repairCount)).map { r in (UInt32(k + r), try encoder.symbol(esi: UInt32(k + r))) }
        output = .allocate(byteCount: k * Self.symbolSize, alignment: 64)
        output.initializeMemory(as: UInt8.self, repeating: 0)
    }

    func encode() throws {
        let encoder = try BlockEncoder(source: data, symbolSize: Self.symbolSize)
        var out = [UInt8](repeating: 0, count: repairCount * Self.symbolSize)
        try out.withUnsafeMutableBytes { buffer in
            for r in 0..<repairCount {
                try encoder.encode(esi: UInt32(k + r),
                                   into: UnsafeMutableRawBufferPointer(rebasing: buffer[(r * Self.symbolSize)...]))
            }
        }
    }

    func decodeWithLoss(check: Bool) throws { try decode(lossyPackets, check: check) }
    func decodeRepairOnly(check: Bool) throws { try decode(repairPackets, check: check) }

    /// Adds symbols one by one and decodes as soon as there are K, like raptorq's
    /// decoder; source symbols are copied straight into the piece buffer (the
    /// swarm's in-place mode).
    private func decode(_ packets: [(UInt32, [UInt8])], check: Bool) throws {
        let decoder = try BlockDecoder(sourceSymbolCount: k, symbolSize: Self.symbolSize, decodingInPlace: output)
        for (esi, symbol) in packets {
            try decoder.add(esi: esi, symbol: symbol)
            guard decoder.hasEnoughSymbols, (try? decoder.decode()) != nil else { continue }
            if check, !data.elementsEqual(output) { throw BenchFailure("piece K=\(k) decoded wrong") }
            return
        }
        throw BenchFailure("piece K=\(k) did not decode")
    }
}

/// A whole object with T = 1280 (raptorq's defaults partition it).
struct ObjectCase {
    static let packetSize = 1280
    let data: [UInt8]
    let encoder: ObjectEncoder
    /// Every packet with 15 % repair, and the 10 %-lossy subset in order.
    let lossyPackets: [[UInt8]]

    init(size: Int) throws {
        data = BenchBytes.random(size)
        encoder = try ObjectEncoder(transferLength: size, packetSize: Self.packetSize)
        var lossy: [[UInt8]] = []
        for z in 0..<encoder.layout.blockCount {
            let k = encoder.layout.sourceSymbols(inBlock: z)
            let packets = try Self.encodeBlock(z, encoder: encoder, data: data, esis: (0..<(k + (k * 15 + 99) / 100)).map { UInt32($0) })
            for (n, packet) in packets.enumerated() where n >= k || n % 10 != 9 { lossy.append(packet) }
        }
        lossyPackets = lossy
    }

    private static func encodeBlock(_ z: Int, encoder: ObjectEncoder, data: [UInt8], esis: [UInt32]) throws -> [[UInt8]] {
        let size = encoder.packetSize
        var buffer = [UInt8](repeating: 0, count: esis.count * size)
        try data.withUnsafeBytes { source in
            try buffer.withUnsafeMutableBytes { target in try encoder.encodeBlock(z, of: source, esis: esis, into: target) }
        }
        return esis.indices.map { Array(buffer[($0 * size)..<(($0 + 1) * size)]) }
    }

    func encode() throws {
        let encoder = try ObjectEncoder(transferLength: data.count, packetSize: Self.packetSize)
        for z in 0..<encoder.layout.blockCount {
            let k = encoder.layout.sourceSymbols(inBlock: z)
            let esis = (0..<(k + (k * 15 + 99) / 100)).map { UInt32($0) }
            var buffer = [UInt8](repeating: 0, count: esis.count * encoder.packetSize)
            try data.withUnsafeBytes { source in
                try buffer.withUnsafeMutableBytes { target in try encoder.encodeBlock(z, of: source, esis: esis, into: target) }
            }
        }
    }

    func decodeWithLoss(check: Bool) throws {
        let decoder = ObjectPacketDecoder(encoder.oti)
        for packet in lossyPackets {
            if let object = try decoder.add(packet: packet) {
                if check, object != data { throw BenchFailure("object decoded wrong") }
                return
            }
        }
        throw BenchFailure("object did not decode")
    }
}

/// RFC 6330 §5.6's promise: decoding fails with K received symbols at most 1 %
/// of the time, with K+1 at most 0.01 %, with K+2 at most 0.0001 %.
struct FailureStatistics {
    let k: Int
    let trials: Int

    func run() throws {
        var random = SystemRandomNumberGenerator()
        var failures = [0, 0, 0]
        let start = Date()
        for _ in 0..<trials {
            // A random share of the source symbols is lost; random repair ESIs
            // in [K, 2^24) make up for it, as in the swarm.
            let lossShare = Double(random.next() % 1000) / 1000
            var esis: [UInt32] = []
            var seen = Set<UInt32>()
            for i in 0..<k where Double(random.next() % 1_000_000) / 1_000_000 >= lossShare {
                esis.append(UInt32(i))
                seen.insert(UInt32(i))
            }
            while esis.count < k + 2 {
                let esi = UInt32(k) + UInt32(random.next() % UInt64((1 << 24) - k))
                if seen.insert(esi).inserted { esis.append(esi) }
            }
            for overhead in 0..<3 {
                let subset = Array(esis.prefix(k + overhead))
                if try !BlockDecoder.isDecodable(sourceSymbolCount: k, esis: subset) { failures[overhead] += 1 }
            }
        }
        let shares = failures.map { Double($0) / Double(trials) }
        print("{\"case\":\"failures\",\"k\":\(k),\"trials\":\(trials),\"failures\":[\(failures.map(String.init).joined(separator: ","))],"
              + "\"shares\":[\(shares.map { String(format: "%.6f", $0) }.joined(separator: ","))],"
              + "\"seconds\":\(String(format: "%.1f", Date().timeIntervalSince(start)))}")
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
