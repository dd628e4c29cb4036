import NIOCore
import Testing
@testable import UTP

@Suite struct UTPCongestionControlTests {
    @Test func belowTargetTheWindowGrowsAndAboveItShrinksInProportion() {
        var config = UTPCongestionControl.Configuration()
        config.slowStart = false
        var control = UTPCongestionControl(configuration: config)
        let start = control.window
        control.onAck(bytesAcked: Int(start), queuingDelay: 0, windowLimited: true)
        // A whole window acknowledged at zero delay: +3000 bytes (BEP 29's per-RTT maximum).
        #expect(control.window == start + 3_000)
        let before = control.window
        control.onAck(bytesAcked: Int(before), queuingDelay: 120_000, windowLimited: true)
        // 20 % over target, a whole window acknowledged: 20 % off the window (LEDBAT++).
        #expect(abs(control.window - before * 0.8) < 0.001)
        let atTarget = control.window
        control.onAck(bytesAcked: 1_000, queuingDelay: 100_000, windowLimited: true)
        #expect(control.window == atTarget)
    }

    @Test func aboveTargetTheWindowShrinksInProportionToTheExcessAtMostHalfPerRoundTrip() {
        // A TCP flow filling a 400 ms modem buffer holds the delay far over target: uTP must
        // get out of its way within a few round trips, not BEP 29's −3000 bytes per round trip.
        var config = UTPCongestionControl.Configuration()
        config.slowStart = false
        config.initialWindow = 300_000
        func afterOneWindow(at delay: Int64) -> Double {
            var control = UTPCongestionControl(configuration: config)
            control.onAck(bytesAcked: 300_000, queuingDelay: delay, windowLimited: true)
            return control.window
        }
        #expect(abs(afterOneWindow(at: 110_000) - 270_000) < 0.001)
        #expect(abs(afterOneWindow(at: 130_000) - 210_000) < 0.001)
        #expect(abs(afterOneWindow(at: 200_000) - 150_000) < 0.001)
        #expect(abs(afterOneWindow(at: 400_000) - 150_000) < 0.001)
    }

    @Test func noDelaySampleShrinksTheWindowFasterThanHalvingPerRoundTrip() {
        var config = UTPCongestionControl.Configuration()
        config.slowStart = false
        config.initialWindow = 100_000
        var control = UTPCongestionControl(configuration: config)
        // A garbage sample of an hour: one ACK of 1,400 bytes takes at most 700 off.
        control.onAck(bytesAcked: 1_400, queuingDelay: 3_600_000_000, windowLimited: true)
        #expect(control.window == 100_000 - 700)
    }

    @Test func anApplicationLimitedSenderDoesNotGrowItsWindowButStillShrinksIt() {
        var config = UTPCongestionControl.Configuration()
        config.initialWindow = 20_000
        var control = UTPCongestionControl(configuration: config)
        let start = control.window
        control.onAck(bytesAcked: 1_400, queuingDelay: 0, windowLimited: false)
        #expect(control.window == start)
        control.onAck(bytesAcked: 1_400, queuingDelay: 300_000, windowLimited: false)
        #expect(control.window < start)
    }

    @Test func slowStartDoublesOnAnEmptyQueueSlowsAsItBuildsAndEndsAtThreeQuartersOfTarget() {
        // Past the first few packets, where LEDBAT's own 3000 bytes per round trip is the larger.
        var config = UTPCongestionControl.Configuration()
        config.initialWindow = 28_000
        var control = UTPCongestionControl(configuration: config)
        #expect(control.inSlowStart)
        let start = control.window
        control.onAck(bytesAcked: Int(start), queuingDelay: 0, windowLimited: true)
        #expect(control.window == 2 * start)
        // 50 ms of the 75 ms exit delay: a third of the acknowledged bytes.
        control.onAck(bytesAcked: 3_000, queuingDelay: 50_000, windowLimited: true)
        #expect(control.inSlowStart)
        #expect(abs(control.window - (2 * start + 1_000)) < 0.001)
        let beforeExit = control.window
        control.onAck(bytesAcked: 1_000, queuingDelay: 76_000, windowLimited: true)
        #expect(!control.inSlowStart)
        // From here the increase is LEDBAT's, a fraction of 3000 bytes per round trip.
        #expect(control.window > beforeExit && control.window < beforeExit + 1_000)
    }

    @Test func lossHalvesTimeoutCollapsesAndTheFloorHolds() {
        var control = UTPCongestionControl()
        for _ in 0..<10 { control.onAck(bytesAcked: Int(control.window), queuingDelay: 0, windowLimited: true) }
        let grown = control.window
        control.onLoss()
        #expect(control.window == grown / 2)
        control.onTimeout()
        #expect(control.window == control.configuration.minimumWindow)
        for _ in 0..<100 { control.onAck(bytesAcked: 100_000, queuingDelay: 10_000_000, windowLimited: true) }
        #expect(control.window == control.configuration.minimumWindow)
    }
}

@Suite struct UTPDelayHistoryTests {
    @Test func queuingDelayIsTheSampleAboveTheTwoMinuteMinimum() {
        var history = UTPDelayHistory()
        let minute: UInt64 = 60_000_000_000
        // A clock offset near the 32-bit wrap: only differences matter.
        let offset: UInt32 = 0xFFFF_FF00
        #expect(history.addSample(offset &+ 50_000, now: 0) == 0)
        #expect(history.addSample(offset &+ 20_000, now: 1_000) == 0)
        #expect(history.addSample(offset &+ 120_000, now: 2_000) == 100_000)
        // A minute later the old minimum is still in the window...
        #expect(history.addSample(offset &+ 70_000, now: minute + 1) == 50_000)
        // ...two minutes later it has aged out and the newer bucket's minimum is the base.
        #expect(history.addSample(offset &+ 80_000, now: 2 * minute + 2) == 10_000)
    }
}

@Suite struct UTPRoundTripEstimatorTests {
    @Test func timeoutStartsAtOneSecondHasAHalfSecondFloorAndBacksOff() {
        var estimator = UTPRoundTripEstimator()
        #expect(estimator.timeout == 1_000_000)
        estimator.addSample(10_000)
        #expect(estimator.timeout == 500_000)
        for _ in 0..<50 { estimator.addSample(400_000) }
        #expect(estimator.smoothed! > 390_000)
        let settled = estimator.timeout
        #expect(settled > 400_000)
        estimator.backOff()
        estimator.backOff()
        #expect(estimator.timeout == settled * 4)
        estimator.addSample(400_000)
        #expect(estimator.timeout < settled * 2)
    }
}

/// LEDBAT against a fixed-rate bottleneck in the simulated network.
@Suite struct UTPLEDBATSimulationTests {
    static let linkRate = 2e6  // bit/s

    static func meanQueueDelay(_ network: SimulatedNetwork, from: Double, to: Double) -> Double {
        let samples = network.queueSamples.filter { Double($0.time) / 1e9 >= from && Double($0.time) / 1e9 < to }
        return samples.map { Double($0.delay) / 1e6 }.reduce(0, +) / Double(max(1, samples.count))
    }

    static func rate(_ outcome: TransferOutcome, from: Double, to: Double) -> Double {
        let bytes = outcome.deliveries.filter { Double($0.time) / 1e9 >= from && Double($0.time) / 1e9 < to }.map(\.bytes).reduce(0, +)
        return Double(bytes * 8) / (to - from)
    }

    static func meanWindow(_ outcome: TransferOutcome, from: Double, to: Double) -> Double {
        let windows = outcome.windows.filter { Double($0.time) / 1e9 >= from && Double($0.time) / 1e9 < to }.map { Double($0.window) }
        return windows.reduce(0, +) / Double(max(1, windows.count))
    }

    @Test func theQueueSettlesNearTheTargetDelayAndTheLinkStaysFull() {
        var network = SimulatedNetwork(
            toA: LinkProfile(delay: 20_000_000), toB: LinkProfile(delay: 20_000_000, rate: Self.linkRate, queueLimit: 2))
        let outcome = network.transfer(byteCount: 32 << 20, seconds: 40)
        let delay = Self.meanQueueDelay(network, from: 20, to: 41)
        let rate = Self.rate(outcome, from: 20, to: 41)
        #expect(delay > 60 && delay < 140, "mean queuing delay \(delay) ms")
        #expect(rate > 0.85 * Self.linkRate, "rate \(rate) bit/s")
    }

    @Test func crossTrafficRaisingTheDelayMakesLEDBATBackOff() {
        var network = SimulatedNetwork(
            toA: LinkProfile(delay: 20_000_000), toB: LinkProfile(delay: 20_000_000, rate: Self.linkRate, queueLimit: 2))
        let outcome = network.transfer(byteCount: 32 << 20, seconds: 60) { network in
            // From t = 30 s an unresponsive flow takes half the bottleneck.
            network.crossTraffic[2] = network.now >= 31_000_000_000 ? 0.5 : 0
        }
        let windowBefore = Self.meanWindow(outcome, from: 20, to: 31)
        let windowDuring = Self.meanWindow(outcome, from: 45, to: 61)
        let rateDuring = Self.rate(outcome, from: 45, to: 61)
        let delayDuring = Self.meanQueueDelay(network, from: 45, to: 61)
        #expect(windowDuring < 0.75 * windowBefore, "window \(windowBefore) → \(windowDuring)")
        #expect(rateDuring < 0.6 * Self.linkRate, "rate during cross traffic \(rateDuring) bit/s")
        #expect(rateDuring > 0.25 * Self.linkRate, "rate during cross traffic \(rateDuring) bit/s")
        #expect(delayDuring < 180, "mean queuing delay during cross traffic \(delayDuring) ms")
    }
}
