import ArgumentParser
import Crypto
import Foundation
import PeerWire
import RaptorQ
import Swarm

/// `bf-bench fountain PIECE_BYTES`: what bf_fountain costs per piece, on both
/// sides, with SHA-1 of the piece as the yardstick measured in the same run.
/// Prints one JSON line of medians (seconds); scripts/bench.d/fountain prints
/// the ratios.
struct FountainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fountain",
        abstract: "Time bf_fountain's per-piece work (see scripts/bench.d/fountain).",
        discussion: """
        Seeder: building a piece's encoder (its intermediate symbols), then one repair
        symbol from it (what the symbol cache saves is the first). Downloader: a decode
        job from half blocks and half repair symbols of two peers, and one where a third
        peer sent garbage and leave-one-out has to find it. SHA-1 of the piece for scale.
        """
    )

    @Argument(help: "Piece length in bytes (T = 16384, so K = PIECE_BYTES / 16384).")
    var pieceBytes: Int

    @Option(help: "Timed runs per measurement (the median is printed).")
    var runs = 9

    func run() throws {
        let size = BFFountain.symbolSize
        guard pieceBytes >= size, pieceBytes <= 64 << 20 else { throw ValidationError("piece length from 16 KiB to 64 MiB") }
        let piece = BenchBytes.random(pieceBytes)
        let hash = Array(Insecure.SHA1.hash(data: piece))
        let encoder = try BlockEncoder(source: piece, symbolSize: size)
        let k = encoder.sourceSymbolCount
        var esi = UInt32(k)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { scratch.deallocate() }

        let build = try median { _ = try BlockEncoder(source: piece, symbolSize: size) }
        let symbol = try median(repeat: 64) {
            esi += 7919
            try encoder.encode(esi: esi, into: scratch)
        }
        let sha1 = try median { _ = Insecure.SHA1.hash(data: piece) }
        let decode = try median { try Self.job(piece, hash: hash, encoder: encoder, polluted: false).run() }
        let leaveOneOut = try median {
            let job = try Self.job(piece, hash: hash, encoder: encoder, polluted: true)
            job.run()
            guard case .verified(let culprits) = job.outcome, culprits.keys.contains(3) else {
                throw ValidationError("leave-one-out did not find the polluter: \(job.outcome)")
            }
        }
        print("{\"piece_bytes\":\(pieceBytes),\"k\":\(k),\"encoder_build\":\(build),\"repair_symbol\":\(symbol),"
              + "\"sha1\":\(sha1),\"decode\":\(decode),\"leave_one_out\":\(leaveOneOut)}")
    }

    /// Blocks 0..<K/2 from peer 1, repair symbols from peer 2 for the rest, and
    /// (polluted) K/2 + 2 more from peer 3, all wrong, plus enough good ones from peer 2.
    static func job(_ piece: [UInt8], hash: [UInt8], encoder: BlockEncoder, polluted: Bool) throws -> SymbolDecodeJob {
        let size = BFFountain.symbolSize
        let k = encoder.sourceSymbolCount
        let buffer = PieceBuffer(piece: 0, length: piece.count)
        var sources = [UInt64?](repeating: nil, count: k)
        for index in 0..<(k / 2) {
            let start = index * size
            let count = min(size, piece.count - start)
            piece.withUnsafeBytes { (buffer.bytes.baseAddress! + start).copyMemory(from: $0.baseAddress! + start, byteCount: count) }
            sources[index] = 1
        }
        var esis: [UInt32] = [], senders: [UInt64] = [], bytes: [UInt8] = []
        let honest = k - k / 2 + (polluted ? k / 2 + 3 : 0)
        for offset in 0..<honest {
            esis.append(UInt32(k + 1000 + offset))
            senders.append(2)
            bytes += try encoder.symbol(esi: UInt32(k + 1000 + offset))
        }
        if polluted {
            for offset in 0..<(k / 2 + 2) {
                esis.append(UInt32(k + 50_000 + offset))
                senders.append(3)
                bytes += BenchBytes.random(size)
            }
        }
        return SymbolDecodeJob(piece: 0, buffer: buffer, expectedHash: hash, sourceSenders: sources, repairESIs: esis,
                               repairSenders: senders, repairBytes: bytes, suspects: polluted ? [2, 1, 3] : [2, 1])
    }

    /// Median seconds of `runs` timings, each of `repeat` calls (divided back out).
    private func median(repeat count: Int = 1, _ body: () throws -> Void) throws -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<count { try body() }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(count))
        }
        return times.sorted()[times.count / 2]
    }
}
