/// LEDBAT's view of one-way delay. Samples are the peer's `timestamp_difference` field: its
/// receive clock minus our send clock, so each contains an unknown clock offset. The offset
/// cancels out against the *base delay*, the minimum sample over about two minutes
/// (kept as the minimum of each of the last `bucketCount` one-minute buckets, so an old minimum
/// ages out and a route change or clock drift is followed). Queuing delay = sample − base.
///
/// Samples are compared on the 32-bit circle, like sequence numbers, because the offset can put
/// them anywhere, including across the wrap.
struct UTPDelayHistory: Sendable {
    static let bucketDuration: UInt64 = 60_000_000_000  // nanoseconds
    static let bucketCount = 2

    private var buckets: [UInt32] = []
    private var currentBucketStart: UInt64 = 0

    /// Records a sample taken at `now` (nanoseconds) and returns the queuing delay it shows, in
    /// microseconds (never negative).
    mutating func addSample(_ sample: UInt32, now: UInt64) -> UInt32 {
        if buckets.isEmpty {
            buckets = [sample]
            currentBucketStart = now
        } else if now &- currentBucketStart >= Self.bucketDuration {
            buckets.append(sample)
            if buckets.count > Self.bucketCount { buckets.removeFirst(buckets.count - Self.bucketCount) }
            currentBucketStart = now
        } else if Self.isLess(sample, buckets[buckets.count - 1]) {
            buckets[buckets.count - 1] = sample
        }
        let base = baseDelay!
        return Self.isLess(sample, base) ? 0 : sample &- base
    }

    /// The minimum sample over the kept buckets; nil before the first sample.
    var baseDelay: UInt32? {
        buckets.dropFirst().reduce(buckets.first) { lowest, sample in
            lowest.map { Self.isLess(sample, $0) ? sample : $0 }
        }
    }

    /// `a < b` on the 32-bit circle.
    static func isLess(_ a: UInt32, _ b: UInt32) -> Bool {
        Int32(bitPattern: b &- a) > 0
    }
}
