import Foundation

/// A one-line progress bar on standard error: percent, amount, rate and ETA.
/// It draws nothing when standard error is not a terminal, so logs and pipes
/// stay clean.
final class ProgressBar {
    private let total: Int64
    private let label: String
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drewSomething = false

    init(total: Int64, label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = max(total, 1)
        self.label = label
        self.enabled = enabled
    }

    /// Redraws at most ten times a second; `extra` is appended (e.g. "3 peers").
    func update(_ done: Int64, extra: String = "", force: Bool = false) {
        guard enabled else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : .infinity
        var line = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        line += String(format: "%3.0f%%", fraction * 100)
        line += "  \(Format.bytes(done))/\(Format.bytes(total))  \(Format.rate(rate))  ETA \(Format.duration(eta))"
        if !extra.isEmpty { line += "  \(extra)" }
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
        drewSomething = true
    }

    /// Erases the bar so the next output starts on a clean line.
    func finish() {
        guard enabled, drewSomething else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
