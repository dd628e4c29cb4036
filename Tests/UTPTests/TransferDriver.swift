import NIOCore
@testable import UTP

/// What a simulated transfer ended with.
struct TransferOutcome {
    var received = 0
    var firstMismatch: Int?
    var closeReasons: [Int: UTPCloseReason] = [:]
    var completedAt: UInt64?
    var senderStatistics: UTPConnectionStatistics?
    /// (time, bytes) as the receiver got them, for rate measurements.
    var deliveries: [(time: UInt64, bytes: Int)] = []
    /// (time, congestion window) of the sender, sampled at each delivery.
    var windows: [(time: UInt64, window: Int)] = []
}

extension SimulatedNetwork {
    /// Connects 1 → 2, sends `byteCount` bytes of `TestStream` from 1, closes both sides once
    /// the receiver has the end of the stream, and runs until both are closed or `seconds` of
    /// virtual time pass. The receiver reads (and reports consumed) everything at once.
    mutating func transfer(byteCount: Int, seconds: Double, onStep: ((inout SimulatedNetwork) -> Void)? = nil) -> TransferOutcome {
        var outcome = TransferOutcome()
        var checker = StreamChecker()
        let limit = now + UInt64(seconds * 1e9)
        let key = connect()
        var processed = 0
        // The manager forgets a closed connection; keep its last statistics.
        var latestSenderStatistics: UTPConnectionStatistics?
        while outcome.closeReasons.count < 2, step(until: limit) {
            while processed < events.count {
                let event = events[processed].event
                processed += 1
                switch event {
                case .connected(let connected) where connected == key:
                    act(1) { manager, now, _ in manager.send(TestStream.bytes(0..<byteCount), on: key, now: now) }
                    act(1) { manager, now, _ in manager.close(key, now: now) }
                case .delivered(let at, let bytes) where at.address == 1:
                    checker.check(bytes)
                    outcome.deliveries.append((now, bytes.readableBytes))
                    if let window = managers[1]!.connection(key)?.statistics.congestionWindow {
                        outcome.windows.append((now, window))
                    }
                    act(2) { manager, now, _ in manager.consumed(bytes.readableBytes, on: at, now: now) }
                case .endOfStream(let at) where at.address == 1:
                    outcome.completedAt = now
                    act(2) { manager, now, _ in manager.close(at, now: now) }
                case .closed(let closed, let reason):
                    if closed == key { outcome.senderStatistics = latestSenderStatistics }
                    if closed == key {
                        outcome.closeReasons[1] = reason
                    } else if closed.address == 1 {
                        outcome.closeReasons[2] = reason
                    }
                default:
                    break
                }
            }
            if let statistics = managers[1]!.connection(key)?.statistics { latestSenderStatistics = statistics }
            onStep?(&self)
        }
        outcome.received = checker.received
        outcome.firstMismatch = checker.firstMismatch
        return outcome
    }
}
