import BitFountain
import Foundation

/// Follows a download until it completes, fails, times out or is interrupted,
/// drawing the progress bar (terminal) or printing `progress` events (`--json`).
struct DownloadWatcher {
    enum Outcome {
        case complete(TorrentSnapshot)
        case failed(String)
        case timedOut(TorrentSnapshot)
        case interrupted(TorrentSnapshot)
    }

    let cli: CLISession
    let id: TorrentID
    let json: Bool
    let timeout: Double?
    let started: Date

    func run() async -> Outcome {
        let signalsSeen = StopSignals.shared.count
        var bar: DownloadProgressLine?
        var lastEvent = Date.distantPast
        while true {
            if let result = cli.outcome(id) {
                bar?.finish()
                switch result {
                case .success:
                    guard let snapshot = try? await cli.session.snapshot(id) else { return .failed("the session ended") }
                    return .complete(snapshot)
                case .failure(let failure):
                    return .failed(failure.reason)
                }
            }
            guard let snapshot = try? await cli.session.snapshot(id) else { return .failed("the session ended") }
            if snapshot.hasMetadata, !json {
                if bar == nil { bar = DownloadProgressLine(label: snapshot.name) }
                bar?.draw(snapshot)
            }
            if json, Date().timeIntervalSince(lastEvent) >= 1 {
                lastEvent = Date()
                JSONOutput.line(ProgressEvent(snapshot, elapsed: Date().timeIntervalSince(started)))
            }
            if let timeout, Date().timeIntervalSince(started) > timeout {
                bar?.finish()
                return .timedOut(snapshot)
            }
            if StopSignals.shared.count > signalsSeen {
                bar?.finish()
                return .interrupted(snapshot)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// The terminal progress bar of `get`: percent, amount, the swarm's current
/// download rate, peers and ETA, redrawn in place on standard error (nothing
/// when standard error is not a terminal). The rate is the engine's measured
/// rate, not an average since start, so a resumed download does not look fast.
final class DownloadProgressLine {
    private let label: String
    private let enabled = isatty(STDERR_FILENO) == 1
    private var drew = false
    private var lastDraw = Date.distantPast

    init(label: String) { self.label = label }

    func draw(_ snapshot: TorrentSnapshot) {
        guard enabled, Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        let total = max(snapshot.totalBytes, 1)
        let fraction = min(1, Double(snapshot.bytesHave) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let rate = snapshot.downloadRate
        let eta = rate > 0 ? Double(total - snapshot.bytesHave) / rate : .infinity
        let peers = snapshot.peersConnected == 1 ? "1 peer" : "\(snapshot.peersConnected) peers"
        var line = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        line += String(format: "%3.0f%%", fraction * 100)
        line += "  \(Format.bytes(snapshot.bytesHave))/\(Format.bytes(total))  \(Format.rate(rate))  \(peers)  ETA \(Format.duration(eta))"
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
        drew = true
    }

    func finish() {
        guard enabled, drew else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

private struct ProgressEvent: Encodable {
    let event = "progress"
    let infohash: String
    let metadata: Bool
    let percent: Double
    let bytes: Int64
    let total: Int64
    let rate: Double
    let peers: Int
    let eta: Double?
    let elapsed: Double

    init(_ snapshot: TorrentSnapshot, elapsed: Double) {
        infohash = snapshot.infoHash.hex
        metadata = snapshot.hasMetadata
        total = snapshot.totalBytes
        bytes = snapshot.bytesHave
        percent = total > 0 ? (Double(bytes) * 1000 / Double(total)).rounded() / 10 : 0
        rate = snapshot.downloadRate.rounded()
        peers = snapshot.peersConnected
        eta = snapshot.downloadRate > 0 ? (Double(total - bytes) / snapshot.downloadRate * 10).rounded() / 10 : nil
        self.elapsed = (elapsed * 1000).rounded() / 1000
    }
}
