import Foundation
extension SymbolProgram {
    func debugStatistics(_ label: String) {
        guard debugStatsEnabled else { return }
        var counts = [Int](repeating: 0, count: 8)
        var reads = [Int](repeating: 0, count: 8)
        for op in ops { counts[Int(op.kind)] += 1; reads[Int(op.kind)] += Int(op.count) }
        FileHandle.standardError.write("\(label): ops \(ops.count) reads \(sourceCount) sum \(counts[0])/\(reads[0]) add \(counts[1])/\(reads[1]) mulsum \(counts[2])/\(reads[2]) muladd \(counts[3])/\(reads[3]) scale \(counts[4]) scalexor \(counts[5]) slots \(slotCount)\n".data(using: .utf8)!)
    }
}

extension BlockSolver {
    func debugPhases(_ marks: [Int], u: Int, i: Int, lower: Int) {
        guard debugStatsEnabled else { return }
        let d = zip(marks.dropFirst(), marks).map { $0 - $1 }
        FileHandle.standardError.write("  K=\(parameters.sourceSymbols) i=\(i) u=\(u) P=\(parameters.piSymbols) lowerBinary=\(lower) known \(d[0]) lower \(d[1]) hdpc \(d[2]) phase2 \(d[3]) finish \(d[4])\n".data(using: .utf8)!)
    }
}

let debugStatsEnabled = ProcessInfo.processInfo.environment["RQ_STATS"] != nil
