import NIOCore

/// The node's download limit (`SessionSettings.downloadLimit`) and the
/// torrents waiting for download allowance, global or their own.
///
/// A torrent machine meters the requests it issues against an allowance
/// (TorrentMachine+DownloadAllowance.swift). When a torrent runs short it
/// queues here; every few milliseconds the queue is served in order, each
/// torrent topping its allowance up from this bucket and its own
/// (`TorrentSession.topUpDownload`), so the smaller of the two limits wins.
/// The timer runs only while someone waits. Lives on the node's event loop.
final class DownloadLimiter {
    /// The global budget; torrents take from it directly (event loop).
    var bucket: TokenBucket
    private let loop: EventLoop
    private var waiting: [TorrentSession] = []
    private var timerArmed = false
    private static let interval = TimeAmount.milliseconds(20)

    init(bytesPerSecond: Int?, loop: EventLoop) {
        self.loop = loop
        bucket = TokenBucket(bytesPerSecond: bytesPerSecond, now: SwarmNode.now())
    }

    var bytesPerSecond: Int? {
        get { bucket.bytesPerSecond }
        set {
            bucket.refill(now: SwarmNode.now())
            bucket.bytesPerSecond = newValue
        }
    }

    /// A torrent ran short of allowance: it is topped up at the next round.
    func enqueue(_ session: TorrentSession) {
        guard !waiting.contains(where: { $0 === session }) else { return }
        waiting.append(session)
        guard !timerArmed else { return }
        timerArmed = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.scheduleTask(in: Self.interval) { bound.value.serve() }
    }

    /// Tops up each waiting torrent in turn; those still short queue again.
    private func serve() {
        timerArmed = false
        let batch = waiting
        waiting.removeAll()
        for session in batch { session.topUpDownload() }
    }
}
