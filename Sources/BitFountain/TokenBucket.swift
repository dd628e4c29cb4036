/// A token bucket in bytes per second on a caller's clock (seconds): the one
/// rate meter behind the upload and download limits, global and per torrent.
///
/// It refills with the time passed, up to a burst of 50 ms worth (at least
/// 32 KiB) so the rate stays smooth at any scale, and it may go into debt: a
/// message larger than the bucket still goes, and the debt is paid before
/// anything else does.
struct TokenBucket {
    /// nil: unlimited.
    var bytesPerSecond: Int? {
        didSet { if bytesPerSecond != oldValue { tokens = min(tokens, burst) } }
    }
    private(set) var tokens: Double
    private var lastRefill: Double

    init(bytesPerSecond: Int?, now: Double) {
        self.bytesPerSecond = bytesPerSecond
        tokens = Double(bytesPerSecond ?? 0) / 50
        lastRefill = now
    }

    private var burst: Double { max(Double(bytesPerSecond ?? 0) / 20, 32 * 1024) }

    mutating func refill(now: Double) {
        defer { lastRefill = now }
        guard let rate = bytesPerSecond else { return }
        tokens = min(tokens + max(0, now - lastRefill) * Double(rate), burst)
    }

    /// Whether anything may go now (unlimited, or not in debt).
    mutating func hasCredit(now: Double) -> Bool {
        guard bytesPerSecond != nil else { return true }
        refill(now: now)
        return tokens > 0
    }

    /// Uses up `bytes` (unlimited: nothing to count).
    mutating func charge(_ bytes: Int, now: Double) {
        guard bytesPerSecond != nil else { return }
        refill(now: now)
        tokens -= Double(bytes)
    }

    /// Whole bytes in hand now (Int.max when unlimited, 0 in debt).
    mutating func available(now: Double) -> Int {
        guard bytesPerSecond != nil else { return .max }
        refill(now: now)
        return max(0, Int(tokens))
    }
}
