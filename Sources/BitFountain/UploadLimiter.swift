import NIOCore

/// An upload limit: the node's (`--upload-limit`, one for every connection)
/// or one torrent's (`Session.setLimits`), a `TokenBucket` on the event loop.
///
/// It meters every byte written to peer sockets, protocol messages included,
/// so the limit is what the network sees. Connections that find the bucket
/// empty wait in line and are woken in turn as it refills. Lives on the
/// node's event loop: no locks.
final class UploadLimiter {
    /// nil: unlimited. Changed on the loop (`SwarmNode.apply`, `TorrentSession.setLimits`).
    var bytesPerSecond: Int? {
        get { bucket.bytesPerSecond }
        set {
            bucket.refill(now: SwarmNode.now())
            bucket.bytesPerSecond = newValue
            if newValue == nil { while let wake = waiters.popFirst() { wake() } }
        }
    }
    private let loop: EventLoop
    private var bucket: TokenBucket
    /// Connections waiting for credit. Room for one at first: most torrents never wait (the
    /// default sixteen were a quarter of a kilobyte for each of ten thousand idle torrents).
    private var waiters = CircularBuffer<() -> Void>(initialCapacity: 1)
    private var timerArmed = false
    private static let refillInterval = TimeAmount.milliseconds(10)

    init(bytesPerSecond: Int?, loop: EventLoop) {
        self.loop = loop
        bucket = TokenBucket(bytesPerSecond: bytesPerSecond, now: SwarmNode.now())
    }

    /// Whether a write may go now (the bucket is not in debt).
    var hasCredit: Bool { bucket.hasCredit(now: SwarmNode.now()) }

    /// Takes `bytes` if the bucket is not in debt. A message larger than the
    /// bucket may drive it negative; the debt is paid before anything else goes.
    func take(_ bytes: Int) -> Bool {
        guard hasCredit else { return false }
        charge(bytes)
        return true
    }

    /// Counts bytes that are sent regardless (the handshake, or what another
    /// limiter let through): they still use up the budget.
    func charge(_ bytes: Int) {
        bucket.charge(bytes, now: SwarmNode.now())
    }

    /// Calls `wake` once tokens are available again.
    func wait(_ wake: @escaping () -> Void) {
        waiters.append(wake)
        armTimer()
    }

    private func armTimer() {
        guard !timerArmed else { return }
        timerArmed = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.scheduleTask(in: Self.refillInterval) { bound.value.timerFired() }
    }

    private func timerFired() {
        timerArmed = false
        // Wake waiters in order while there is credit; each takes what it writes.
        while hasCredit, let wake = waiters.popFirst() { wake() }
        if !waiters.isEmpty { armTimer() }
    }
}
