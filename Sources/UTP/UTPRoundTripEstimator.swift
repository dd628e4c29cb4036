/// Smoothed round-trip time and retransmission timeout, RFC 6298 style (gains 1/8 and 1/4)
/// with uTP's floor: BEP 29 puts the timeout at `max(rtt + 4 * rtt_var, 500 ms)`, starting at
/// 1 s before any sample. Times are microseconds.
struct UTPRoundTripEstimator: Sendable {
    static let initialTimeout: Int64 = 1_000_000
    static let minimumTimeout: Int64 = 500_000
    static let maximumTimeout: Int64 = 60_000_000

    private(set) var smoothed: Int64?
    private(set) var variance: Int64 = 0
    /// Doublings applied by consecutive timeouts; a fresh sample clears them.
    private(set) var backoffShift = 0

    /// Feeds one sample from a packet sent once (Karn's rule: the caller never samples a
    /// retransmitted packet, whose ack cannot be matched to one transmission).
    mutating func addSample(_ rtt: Int64) {
        let sample = max(0, rtt)
        if let current = smoothed {
            variance += (abs(current - sample) - variance) / 4
            smoothed = current + (sample - current) / 8
        } else {
            smoothed = sample
            variance = sample / 2
        }
        backoffShift = 0
    }

    /// Doubles the timeout after a retransmission timeout (exponential backoff).
    mutating func backOff() {
        backoffShift = min(backoffShift + 1, 16)
    }

    /// The retransmission timeout in microseconds.
    var timeout: Int64 {
        let base = smoothed.map { max($0 + 4 * variance, Self.minimumTimeout) } ?? Self.initialTimeout
        return min(base << Int64(backoffShift), Self.maximumTimeout)
    }
}
