/// LEDBAT congestion control as BEP 29 specifies it, with slow start the way libtorrent's
/// `utp_stream` does it (libutp, the other reference implementation, has none and grows
/// linearly from the start; on a fast path that takes minutes to fill the pipe).
///
/// The window grows while the queuing delay our packets see is below the 100 ms target and
/// shrinks in proportion once it is above, so a uTP upload gives way to the user's TCP flows
/// (which fill the modem's queue) instead of competing with them:
///
///     off_target    = (target − queuing_delay) / target        (at most 1)
///     window_factor = bytes_acked / max(cwnd, bytes_acked)
///     cwnd         += MAX_CWND_INCREASE_BYTES_PER_RTT × off_target × window_factor
///
/// Only the increase is capped (at the maximum per round trip, as libutp does): the decrease
/// grows with how far the delay is over target, as BEP 29 and RFC 6817 have it, so a TCP flow
/// that fills a deep modem buffer (300–500 ms) makes uTP back off several times faster than one
/// that only just passes the target. It is bounded at half the acknowledged bytes, so the window
/// never shrinks faster than halving per round trip (TCP's reaction to loss), whatever a sample says.
///
/// Loss halves the window (BEP 29's 0.5); a retransmission timeout drops it to the floor.
/// Slow start doubles per round trip (cwnd += bytes acked) until the queuing delay passes 90 %
/// of target or a packet is lost.
public struct UTPCongestionControl: Sendable {
    public struct Configuration: Sendable {
        /// LEDBAT's target queuing delay (BEP 29: 100 ms), microseconds.
        public var targetDelay: Int64 = 100_000
        /// Most the window grows per round trip in congestion avoidance (libutp's 3000).
        public var maximumIncreasePerRoundTrip: Double = 3_000
        /// The window never drops below this (one full packet, so one packet can always be in
        /// flight and the delay keeps being measured).
        public var minimumWindow: Double = 1_400
        public var maximumWindow: Double = 8 * 1_024 * 1_024
        public var initialWindow: Double = 2 * 1_400
        public var slowStart = true

        public init() {}
    }

    public let configuration: Configuration
    /// Bytes allowed in flight.
    public private(set) var window: Double
    public private(set) var inSlowStart: Bool
    private var slowStartThreshold: Double

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.window = configuration.initialWindow
        self.inSlowStart = configuration.slowStart
        self.slowStartThreshold = configuration.maximumWindow
    }

    /// Applies one acknowledgement of `bytesAcked` new bytes, our packets having seen
    /// `queuingDelay` microseconds of queue. `windowLimited` is false when the sender had less
    /// data than the window allowed: the window only grows when it is what limits the sender,
    /// else it would grow without bound on an idle connection and burst later.
    public mutating func onAck(bytesAcked: Int, queuingDelay: Int64, windowLimited: Bool) {
        guard bytesAcked > 0 else { return }
        let config = configuration
        let acked = Double(bytesAcked)
        let offTarget = min(1, Double(config.targetDelay - queuingDelay) / Double(config.targetDelay))
        let windowFactor = acked / max(window, acked)
        var gain = max(config.maximumIncreasePerRoundTrip * offTarget * windowFactor, -acked / 2)
        if inSlowStart {
            if Double(queuingDelay) > 0.9 * Double(config.targetDelay) {
                inSlowStart = false
                slowStartThreshold = window
            } else {
                gain = max(gain, acked)
                if window + gain >= slowStartThreshold { inSlowStart = false }
            }
        }
        if gain > 0, !windowLimited { gain = 0 }
        window = clamp(window + gain)
    }

    /// A packet was lost (three duplicate ACKs or a selective ACK past it): halve, once per
    /// window of data (the caller ensures that).
    public mutating func onLoss() {
        inSlowStart = false
        window = clamp(window * 0.5)
        slowStartThreshold = window
    }

    /// A retransmission timeout: nothing is getting through; restart from the floor and slow-start
    /// back up to half the old window.
    public mutating func onTimeout() {
        slowStartThreshold = max(window * 0.5, configuration.minimumWindow)
        window = configuration.minimumWindow
        inSlowStart = configuration.slowStart
    }

    private func clamp(_ value: Double) -> Double {
        min(max(value, configuration.minimumWindow), configuration.maximumWindow)
    }
}
