/// LEDBAT congestion control (BEP 29) with the changes of LEDBAT++
/// (draft-irtf-iccrg-ledbat-plus-plus) that make it yield to loss-based TCP, and slow start the
/// way libtorrent's `utp_stream` does it (libutp has none and grows linearly from the start; on
/// a fast path that takes minutes to fill the pipe).
///
/// Below the 100 ms target the window grows as BEP 29 has it, by at most
/// `maximumIncreasePerRoundTrip` per round trip, less the nearer the delay is to target:
///
///     off_target    = (target − queuing_delay) / target
///     window_factor = bytes_acked / max(cwnd, bytes_acked)
///     cwnd         += MAX_CWND_INCREASE_BYTES_PER_RTT × off_target × window_factor
///
/// Above target it shrinks multiplicatively (LEDBAT++ §4.3), by `decreaseConstant` × cwnd ×
/// (queuing_delay / target − 1) per round trip, at most half the window per round trip (TCP's
/// reaction to loss, and a bound whatever a garbage sample says). BEP 29's linear decrease
/// (−3000 × off_target per round trip) was far too slow: a TCP flow in a 400 ms modem queue
/// holds the delay at 150–400 ms, which took LEDBAT tens of seconds to answer from a window of
/// 900 KB, and TCP kept only 58 % of the link meanwhile. Halving per round trip brings the same
/// window to the floor in about nine round trips.
///
/// Slow start doubles per round trip (cwnd += bytes acked) on an empty queue and ends when the
/// queuing delay passes 3/4 of target (LEDBAT++ §4.4) or a packet is lost. The delay our ACKs
/// report is a round trip old, and by then a doubling window has grown by a whole BDP more:
/// exiting at 90 % of target overshot to 3.6× the path's BDP in the lab. So the slow-start gain
/// also shrinks in proportion to the queue on the way to the exit threshold, as LEDBAT++ slows
/// its slow start: on the simulated lab path the peak is 2.5× the BDP (plain doubling: 3.5×).
///
/// Loss halves the window (BEP 29's 0.5); a retransmission timeout drops it to the floor, two
/// packets (LEDBAT++'s minimum: one packet per round trip leaves a delayed-ACK receiver waiting
/// for a second before it answers, and the delay stops being measured).
public struct UTPCongestionControl: Sendable {
    public struct Configuration: Sendable {
        /// LEDBAT's target queuing delay (BEP 29: 100 ms), microseconds.
        public var targetDelay: Int64 = 100_000
        /// Most the window grows per round trip in congestion avoidance (libutp's 3000).
        public var maximumIncreasePerRoundTrip: Double = 3_000
        /// LEDBAT++'s constant C: above target the window loses C × (delay / target − 1) of
        /// itself per round trip (before the cap at half).
        public var decreaseConstant: Double = 1
        /// Slow start ends when the queuing delay passes this fraction of the target (LEDBAT++).
        public var slowStartExitFraction: Double = 0.75
        /// The window never drops below this (two full packets, LEDBAT++'s minimum).
        public var minimumWindow: Double = 2 * 1_400
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
        let target = Double(config.targetDelay)
        let delay = Double(queuingDelay)
        var gain: Double
        if delay <= target {
            let windowFactor = acked / max(window, acked)
            gain = config.maximumIncreasePerRoundTrip * (target - delay) / target * windowFactor
        } else {
            // Summed over the round trip's ACKs (a window's worth of bytes) this takes
            // C × (delay / target − 1) of the window, and never more than half of it.
            gain = -acked * min(config.decreaseConstant * (delay - target) / target, 0.5)
        }
        if inSlowStart {
            let exitDelay = config.slowStartExitFraction * target
            if delay > exitDelay {
                inSlowStart = false
                slowStartThreshold = window
            } else {
                // Doubling per round trip on an empty queue, slowing as the queue builds: the
                // delay reported is a round trip old, so a window still doubling when it
                // crosses the exit threshold has overshot by a whole BDP more.
                gain = max(gain, acked * (1 - delay / exitDelay))
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
