import BitFountain
import Foundation
import Synchronization

/// Follows a download until it completes, fails, times out or is interrupted,
/// drawing the progress bar (terminal) or printing `progress` events (`--json`).
struct DownloadWatcher {
    enum Outcome {
        case complete(TorrentStats)
        case failed(String)
        case timedOut(TorrentStats)
        case interrupted(TorrentStats)
    }

    let session: TorrentSession
    let json: Bool
    let timeout: Double?
    let started: Date

    func run() async -> Outcome {
        let state = WatchState()
        session.completion.whenComplete { result in
            switch result {
            case .success: state.finish(nil)
            case .failure(let error): state.finish("\(error)")
            }
        }
        let signalsSeen = StopSignals.shared.count
        var bar: DownloadProgressLine?
        var lastEvent = Date.distantPast
        while true {
            if let result = state.result {
                bar?.finish()
                switch result {
                case .success:
                    guard let snapshot = try? await session.snapshot().get() else { return .failed("the session ended") }
                    return .complete(snapshot)
                case .failure(let reason):
                    return .failed(reason.text)
                }
            }
            guard let snapshot = try? await session.snapshot().get() else { return .failed("the session ended") }
            if snapshot.hasMetadata, !json {
                if bar == nil { bar = DownloadProgressLine(label: snapshot.name ?? "download") }
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

    func draw(_ snapshot: TorrentStats) {
        guard enabled, Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        let total = max(snapshot.totalBytes, 1)
        let fraction = min(1, Double(snapshot.verifiedBytes) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let rate = snapshot.downloadRate
        let eta = rate > 0 ? Double(total - snapshot.verifiedBytes) / rate : .infinity
        let peers = snapshot.connectedPeers == 1 ? "1 peer" : "\(snapshot.connectedPeers) peers"
        var line = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        line += String(format: "%3.0f%%", fraction * 100)
        line += "  \(Format.bytes(snapshot.verifiedBytes))/\(Format.bytes(total))  \(Format.rate(rate))  \(peers)  ETA \(Format.duration(eta))"
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
        drew = true
    }

    func finish() {
        guard enabled, drew else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Completion, set on the event loop, read by the watch loop.
private final class WatchState: Sendable {
    struct Reason: Error { let text: String }
    private let state = Mutex<Result<Void, Reason>?>(nil)

    var result: Result<Void, Reason>? { state.withLock { $0 } }

    /// nil: completed; a text: why it failed.
    func finish(_ failure: String?) {
        state.withLock { $0 = failure.map { .failure(Reason(text: $0)) } ?? .success(()) }
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

    init(_ snapshot: TorrentStats, elapsed: Double) {
        infohash = snapshot.infoHash.hex
        metadata = snapshot.hasMetadata
        total = snapshot.totalBytes
        bytes = snapshot.verifiedBytes
        percent = total > 0 ? (Double(bytes) * 1000 / Double(total)).rounded() / 10 : 0
        rate = snapshot.downloadRate.rounded()
        peers = snapshot.connectedPeers
        eta = snapshot.downloadRate > 0 ? (Double(total - bytes) / snapshot.downloadRate * 10).rounded() / 10 : nil
        self.elapsed = (elapsed * 1000).rounded() / 1000
    }
}
