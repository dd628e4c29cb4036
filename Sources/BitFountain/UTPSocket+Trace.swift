import Foundation
import NIOCore
import UTP

/// `BITFOUNTAIN_UTP_TRACE=1`: once a second, one line on stderr per uTP connection with what
/// LEDBAT sees (queuing delay, congestion window, bytes in flight, round-trip time, losses).
/// The benchmark (`scripts/bench utp`, part b) reads these lines to show how the window
/// follows the delay on a shaped link; nothing else depends on them.
enum UTPTrace {
    static let enabled = ProcessInfo.processInfo.environment["BITFOUNTAIN_UTP_TRACE"] == "1"
    static let interval = TimeAmount.seconds(1)

    /// `[utp] t=EPOCH_S peer=ADDR delay_ms=… cwnd=… inflight=… rtt_ms=… retx=… timeouts=…`
    static func line(_ key: UTPSocket.Key, _ statistics: UTPConnectionStatistics, at time: Date) -> String {
        let seconds = String(format: "%.3f", time.timeIntervalSince1970)
        let delay = String(format: "%.1f", Double(statistics.queuingDelay) / 1_000)
        let rtt = String(format: "%.1f", Double(statistics.roundTripTime ?? 0) / 1_000)
        return "[utp] t=\(seconds) peer=\(key.address) delay_ms=\(delay) cwnd=\(statistics.congestionWindow) "
            + "inflight=\(statistics.bytesInFlight) rtt_ms=\(rtt) retx=\(statistics.packetsRetransmitted) "
            + "timeouts=\(statistics.timeouts)\n"
    }

    static func write(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        FileHandle.standardError.write(Data(lines.joined().utf8))
    }
}
