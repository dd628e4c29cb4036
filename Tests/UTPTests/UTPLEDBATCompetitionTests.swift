import Foundation
import Testing
import TestSupport
@testable import UTP

/// LEDBAT beside a loss-based TCP-like flow (`SimulatedRenoFlow`) on the bench's lab link
/// (issue 12, item 7b; `scripts/interop/utp_bench.py`): 20 Mbit/s, 50 ms each way, a drop-tail
/// queue of 100 or 400 ms. Both flows carry data from 1 to 2 through the same bottleneck. As in
/// the bench, uTP runs alone for 5 s, the TCP-like flow then joins for 14 s, and uTP is alone
/// again after it stops; the TCP share skips its first 3 s (its slow start) and last second.
/// BF_UTP_SIM_TRACE=1 prints a per-second trace.
@Suite(.cpuBound) struct UTPLEDBATCompetitionTests {
    static let linkRate = 20e6  // bit/s
    static let oneWay: UInt64 = 50_000_000
    /// The path's bandwidth-delay product: 20 Mbit/s × 100 ms = 250,000 bytes.
    static let bandwidthDelayProduct = linkRate / 8 * 0.1
    static let headStart = 5.0
    static let together = 14.0
    static let alone = 14.0

    struct Figures {
        /// The TCP-like flow's share of the link while both run.
        var renoShare: Double
        var utpShareBeside: Double
        /// uTP's share over the last 4 s, once its ramp after the TCP flow is over.
        var utpShareAlone: Double
        /// uTP's largest window in its first seconds alone, over the path's BDP.
        var slowStartPeak: Double
    }

    static func run(queue: Double, alone: Double = Self.alone) -> Figures {
        var network = SimulatedNetwork(
            toA: LinkProfile(delay: oneWay), toB: LinkProfile(delay: oneWay, rate: linkRate, queueLimit: queue))
        let start = Double(network.now) / 1e9
        let renoStart = network.now + UInt64(headStart * 1e9)
        let renoStop = renoStart + UInt64(together * 1e9)
        let outcome = network.transfer(byteCount: 48 << 20, seconds: headStart + together + alone) { network in
            if network.reno == nil, network.now >= renoStart {
                network.startRenoFlow()
                network.reno!.stopAt = renoStop
            }
        }
        let beside = (start + headStart + 3, start + headStart + together - 1)
        let after = (start + headStart + together + alone - 4, start + headStart + together + alone)
        let slowStartPeak = outcome.windows.filter { Double($0.time) / 1e9 < start + headStart }.map(\.window).max() ?? 0
        let figures = Figures(
            renoShare: network.reno!.rate(from: beside.0, to: beside.1) / linkRate,
            utpShareBeside: UTPLEDBATSimulationTests.rate(outcome, from: beside.0, to: beside.1) / linkRate,
            utpShareAlone: UTPLEDBATSimulationTests.rate(outcome, from: after.0, to: after.1) / linkRate,
            slowStartPeak: Double(slowStartPeak) / bandwidthDelayProduct)
        if ProcessInfo.processInfo.environment["BF_UTP_SIM_TRACE"] != nil {
            print("queue \(queue) s: \(figures)")
            for second in stride(from: start, to: start + headStart + together + alone, by: 1) {
                let window = outcome.windows.filter { Double($0.time) / 1e9 >= second && Double($0.time) / 1e9 < second + 1 }
                    .map(\.window).max() ?? 0
                print(String(format: "t=%3.0f reno %5.1f%% utp %5.1f%% cwnd %7d queue %5.1f ms", second - start,
                             100 * (network.reno?.rate(from: second, to: second + 1) ?? 0) / linkRate,
                             100 * UTPLEDBATSimulationTests.rate(outcome, from: second, to: second + 1) / linkRate, window,
                             UTPLEDBATSimulationTests.meanQueueDelay(network, from: second, to: second + 1)))
            }
        }
        return figures
    }

    /// Measured: the TCP-like flow keeps 99.8 % of the link, uTP sits at its 2-packet floor
    /// (0.2 %; BEP 29's linear decrease left TCP 58 % in the lab), slow start peaks at 2.47× the
    /// BDP with a 145 ms queue (3.6× before), and uTP is back to the whole link (98.5 % over the
    /// last 4 s) about 9 s after TCP stops: its linear increase, 3000 bytes per round trip, from
    /// the floor to the BDP.
    @Test func withA400msQueueTCPKeepsTheLinkAndUTPTakesItAfter() {
        let figures = Self.run(queue: 0.4)
        #expect(figures.renoShare >= 0.8, "\(figures)")
        #expect(figures.utpShareAlone >= 0.9, "\(figures)")
        #expect(figures.slowStartPeak <= 2.75, "\(figures)")
    }

    /// With a 100 ms queue the delay can never pass LEDBAT's 100 ms target (the queue holds at
    /// most 100 ms of data), so no delay-based controller sees the TCP flow: uTP backs off only
    /// on loss, as TCP does, and the two just share the link. Measured: TCP 45 %, uTP 54 %, the
    /// link 99 % full (uTP's increase, up to 3000 bytes per round trip, is about twice Reno's
    /// one segment, but shrinks as the queue nears 100 ms). TCP's 80 % is out of reach of any
    /// delay-based controller with a 100 ms target here; checked is that the link stays full
    /// and uTP takes no more than about half (with a deterministic drop-tail queue it took 81 %).
    @Test func withA100msQueueUTPCannotSeeTCPAndTheyShareTheLink() {
        let figures = Self.run(queue: 0.1, alone: 0)
        #expect(figures.renoShare + figures.utpShareBeside >= 0.95, "\(figures)")
        #expect(figures.renoShare >= 0.4, "\(figures)")
    }

    /// The competitor must itself be a working TCP: alone it fills the link and overflows the queue.
    @Test func theRenoFlowAloneFillsTheLink() {
        var network = SimulatedNetwork(
            toA: LinkProfile(delay: Self.oneWay), toB: LinkProfile(delay: Self.oneWay, rate: Self.linkRate, queueLimit: 0.1))
        let start = Double(network.now) / 1e9
        network.startRenoFlow()
        let end = network.now + 12_000_000_000
        while network.step(until: end) {}
        let rate = network.reno!.rate(from: start + 4, to: start + 12)
        #expect(rate > 0.9 * Self.linkRate, "Reno alone: \(rate / Self.linkRate) of the link")
        #expect(network.dropped > 0, "Reno never filled the queue")
    }
}
