import NIOCore

/// A token bucket shared by every connection of a node (`--upload-limit`).
///
/// It meters every byte written to peer sockets, protocol messages included,
/// so the limit is what the network sees. Connections that find the bucket
/// empty wait in line and are woken in turn as it refills. Lives on the
/// node's event loop: no locks.
final class UploadLimiter {
    /// nil: unlimited. Changed on the loop by `SwarmNode.apply`.
    var bytesPerSecond: Int? {
        didSet {
            lastRefill = NIODeadline.now()
            if bytesPerSecond == nil { while let wake = waiters.popFirst() { wake() } }
        }
    }
    private let loop: EventLoop
    private var tokens: Double
    private var lastRefill = NIODeadline.now()
    private var waiters = CircularBuffer<() -> Void>()
    private var timerArmed = false
    private static let refillInterval = TimeAmount.milliseconds(10)

    init(bytesPerSecond: Int?, loop: EventLoop) {
        self.bytesPerSecond = bytesPerSecond
        self.loop = loop
        tokens = Double(bytesPerSecond ?? 0) / 50
    }

    /// Takes `bytes` if the bucket is not in debt. A message larger than the
    /// bucket may drive it negative; the debt is paid before anything else goes.
    func take(_ bytes: Int) -> Bool {
        guard let rate = bytesPerSecond else { return true }
        refill(rate)
        guard tokens > 0 else { return false }
        tokens -= Double(bytes)
        return true
    }

    /// Counts bytes that are sent regardless (the handshake): they still use up the budget.
    func charge(_ bytes: Int) {
        guard let rate = bytesPerSecond else { return }
        refill(rate)
        tokens -= Double(bytes)
    }

    /// Calls `wake` once tokens are available again.
    func wait(_ wake: @escaping () -> Void) {
        waiters.append(wake)
        armTimer()
    }

    private func refill(_ rate: Int) {
        let now = NIODeadline.now()
        let elapsed = Double((now - lastRefill).nanoseconds) / 1e9
        lastRefill = now
        // A burst of at most 50 ms keeps the rate smooth at any scale.
        tokens = min(tokens + elapsed * Double(rate), max(Double(rate) / 20, 32 * 1024))
    }

    private func armTimer() {
        guard !timerArmed else { return }
        timerArmed = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.scheduleTask(in: Self.refillInterval) { bound.value.timerFired() }
    }

    private func timerFired() {
        timerArmed = false
        if let rate = bytesPerSecond { refill(rate) }
        // Wake waiters in order while there is credit; each takes what it writes.
        while tokens > 0, let wake = waiters.popFirst() { wake() }
        if !waiters.isEmpty { armTimer() }
    }
}
