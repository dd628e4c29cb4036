import ArgumentParser
import Foundation
import RaptorQ

/// `bf-bench raptorq CASE`: times BitFountain's RaptorQ on one benchmark case and
/// prints one JSON line {"case", "bytes", "seconds": [...]}. scripts/bench.d/raptorq
/// runs the same cases through raptorq 2.0.0 and prints the ratios.
struct RaptorQBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raptorq",
        abstract: "Time one RaptorQ case (see scripts/bench.d/raptorq).",
        discussion: """
        Cases (T = 16384 for pieces, 1280 for objects):
          piece-encode K      intermediate symbols + ⌈0.15·K⌉ repair symbols of a K-symbol block
          piece-decode K      decode from 90 % of the source symbols + repair symbols
          piece-repair K      decode from repair symbols only
          object-encode F     every packet of an F-byte object with 15 % repair packets per block
          object-decode F     decode an F-byte object with 10 % of its source packets lost
          failures K          decode failure shares with K, K+1, K+2 symbols (--runs trials)
        """
    )

    @Argument(help: "The case: piece-encode, piece-decode, piece-repair, object-encode, object-decode, failures.")
    var kind: String

    @Argument(help: "K (pieces, failures) or F in bytes (objects).")
    var size: Int

    @Option(help: "Timed runs (trials for `failures`).")
    var runs = 5

    @Flag(help: "Encode without the shared per-K encoding plan cache (plan every time).")
    var coldPlan = false

    func run() throws {
        switch kind {
        case "piece-encode":
            let piece = try PieceCase(k: size)
            try report(bytes: size * PieceCase.symbolSize) { _ in
                if coldPlan { BlockEncoder.discardCachedPlans() }
                try piece.encode()
            }
        case "piece-decode": try report(bytes: size * PieceCase.symbolSize, PieceCase(k: size).decodeWithLoss)
        case "piece-repair": try report(bytes: size * PieceCase.symbolSize, PieceCase(k: size).decodeRepairOnly)
        case "object-encode":
            let object = try ObjectCase(size: size)
            try report(bytes: size) { _ in
                if coldPlan { BlockEncoder.discardCachedPlans() }
                try object.encode()
            }
        case "object-decode": try report(bytes: size, ObjectCase(size: size).decodeWithLoss)
        case "failures": try FailureStatistics(k: size, trials: runs).run()
        default: throw ValidationError("unknown case \(kind)")
        }
    }

    /// Runs `body` once checking its result (and warming caches and the shared
    /// encoding plan), then `runs` timed times without the check.
    private func report(bytes: Int, _ body: (_ check: Bool) throws -> Void) throws {
        try body(true)
        var seconds: [Double] = [], cpuSeconds: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = Self.threadCPUTime()
            try body(false)
            cpuSeconds.append(Self.threadCPUTime() - cpuStart)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let json = seconds.map { String(format: "%.6f", $0) }.joined(separator: ",")
        let cpuJSON = cpuSeconds.map { String(format: "%.6f", $0) }.joined(separator: ",")
        print("{\"case\":\"\(kind)\",\"size\":\(size),\"bytes\":\(bytes),\"seconds\":[\(json)],\"cpu_seconds\":[\(cpuJSON)]}")
    }

    /// CPU time of this thread: unlike wall time, not inflated while other
    /// processes have the core (this machine is shared).
    static func threadCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// Random input bytes (what is coded does not change the speed).
enum BenchBytes {
    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var index = 0
            while index < count {
                var word = generator.next()
                for _ in 0..<8 where index < count {
                    buffer[index] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    index += 1
                }
            }
            initialized = count
        }
    }
}
