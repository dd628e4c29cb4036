import NIOCore
import Testing
@testable import UTP

/// The side that acknowledges the last FIN closes at once; when that ACK is lost the peer
/// resends its FIN. A finished connection is remembered for a while (`UTPTimeWait`), so the
/// resent FIN is acknowledged again and both sides end `.finished`, not one of them `.reset`.
@Suite struct UTPTimeWaitTests {
    /// Two managers, addresses 1 and 2, with datagrams carried by hand so a test can drop one.
    struct Pair {
        var managers: [Int: UTPSocketManager<Int>]
        var random = SeededGenerator(seed: 21)
        var now: UInt64 = 1_000_000_000
        var closes: [Int: UTPCloseReason] = [:]
        var sent: [(from: Int, header: UTPHeader)] = []

        init(configuration: UTPSocketManager<Int>.Configuration = .init()) {
            managers = [1: UTPSocketManager(configuration: configuration), 2: UTPSocketManager(configuration: configuration)]
        }

        /// Carries `output` of manager `from` to the other one, and the answers back, until
        /// nothing is left; `drop` decides per datagram whether the network loses it.
        mutating func carry(_ output: UTPSocketManager<Int>.Output, from: Int, drop: (Int, UTPHeader) -> Bool = { _, _ in false }) {
            var queue = [(from, output)]
            while !queue.isEmpty {
                let (source, batch) = queue.removeFirst()
                for event in batch.events { if case .closed(_, let reason) = event { closes[source] = reason } }
                for datagram in batch.datagrams {
                    let header = try! UTPPacketCodec.decode(datagram.bytes).header
                    sent.append((source, header))
                    guard !drop(source, header) else { continue }
                    let target = datagram.address
                    let answer = managers[target]!.receive(datagram.bytes, from: source, now: .uptimeNanoseconds(now), random: &random)
                    queue.append((target, answer))
                }
            }
        }

        mutating func act(_ side: Int, _ body: (inout UTPSocketManager<Int>, NIODeadline, inout SeededGenerator) -> UTPSocketManager<Int>.Output,
                          drop: (Int, UTPHeader) -> Bool = { _, _ in false }) {
            let output = body(&managers[side]!, .uptimeNanoseconds(now), &random)
            carry(output, from: side, drop: drop)
        }

        /// Side 1 opens a connection to side 2, both write and close.
        mutating func exchangeAndClose(droppingFinalAck: Bool) {
            var key1: UTPConnectionKey<Int>?
            act(1) { manager, now, random in
                let (key, output) = manager.connect(to: 2, now: now, random: &random)
                key1 = key
                return output
            }
            let key2 = managers[2]!.connectionKeys.first!
            act(1) { manager, now, _ in manager.send(ByteBuffer(string: "hello"), on: key1!, now: now) }
            act(2) { manager, now, _ in manager.send(ByteBuffer(string: "world"), on: key2, now: now) }
            act(1) { manager, now, _ in manager.close(key1!, now: now) }
            // Side 2 closes last, so side 1 sends the final ACK (of side 2's FIN) and closes at once.
            act(2, { manager, now, _ in manager.close(key2, now: now) }, drop: { from, header in
                droppingFinalAck && from == 1 && header.type == .state
            })
        }

        /// Runs side `side`'s timers until they are quiet or `seconds` have passed.
        mutating func runTimers(of side: Int, forSeconds seconds: UInt64) {
            let end = now + seconds * 1_000_000_000
            while let wakeup = managers[side]!.nextWakeup?.uptimeNanoseconds, wakeup <= end {
                now = max(now, wakeup)
                act(side) { manager, now, _ in manager.tick(now: now) }
            }
            now = end
        }
    }

    @Test func aFinResentAfterTheLastAckWasLostIsAcknowledgedAgainAndBothSidesFinish() {
        var pair = Pair()
        pair.exchangeAndClose(droppingFinalAck: true)
        #expect(pair.closes[1] == .finished)
        #expect(pair.closes[2] == nil, "side 2 still waits for the ACK of its FIN")
        pair.runTimers(of: 2, forSeconds: 10)
        #expect(pair.closes[2] == .finished)
        #expect(pair.managers[1]!.statistics.timeWaitAcks >= 1)
        #expect(pair.managers[1]!.statistics.resetsSent == 0)
        #expect(!pair.sent.contains { $0.header.type == .reset })
    }

    @Test func withoutTimeWaitTheResentFinIsReset() {
        // The same exchange with the memory turned off shows what the linger is for.
        var configuration = UTPSocketManager<Int>.Configuration()
        configuration.maximumTimeWaitConnections = 0
        var pair = Pair(configuration: configuration)
        pair.exchangeAndClose(droppingFinalAck: true)
        pair.runTimers(of: 2, forSeconds: 10)
        #expect(pair.closes[2] == .reset)
        #expect(pair.managers[1]!.statistics.resetsSent >= 1)
    }

    @Test func aLingeringConnectionSendsNothingForPacketsItNeverTookAndResetsAfterItExpires() throws {
        var configuration = UTPSocketManager<Int>.Configuration()
        configuration.timeWaitDuration = .seconds(5)
        var pair = Pair(configuration: configuration)
        pair.exchangeAndClose(droppingFinalAck: false)
        #expect(pair.closes[1] == .finished && pair.closes[2] == .finished)
        let finFromSide2 = try #require(pair.sent.last { $0.from == 2 && $0.header.type == .fin }?.header)
        // Data past the FIN was never taken: no ACK, and no RESET either while lingering.
        var beyond = finFromSide2
        beyond.type = .data
        beyond.sequenceNumber &+= 5
        let silent = pair.managers[1]!.receive(
            UTPPacketCodec.encode(UTPPacket(header: beyond, payload: ByteBuffer(string: "late"))), from: 2,
            now: .uptimeNanoseconds(pair.now), random: &pair.random)
        #expect(silent.datagrams.isEmpty)
        // The FIN again, inside the linger: one STATE acknowledging it.
        let again = pair.managers[1]!.receive(
            UTPPacketCodec.encode(UTPPacket(header: finFromSide2)), from: 2,
            now: .uptimeNanoseconds(pair.now + 1_000_000_000), random: &pair.random)
        let ack = try UTPPacketCodec.decode(try #require(again.datagrams.first).bytes).header
        #expect(again.datagrams.count == 1)
        #expect(ack.type == .state)
        #expect(ack.ackNumber == finFromSide2.sequenceNumber)
        #expect(ack.connectionID == finFromSide2.connectionID &+ 1, "side 1 sends on the ID after the one it receives on")
        // After the linger: an unknown connection again, answered with a RESET.
        let late = pair.managers[1]!.receive(
            UTPPacketCodec.encode(UTPPacket(header: finFromSide2)), from: 2,
            now: .uptimeNanoseconds(pair.now + 6_000_000_000), random: &pair.random)
        #expect(try UTPPacketCodec.decode(try #require(late.datagrams.first).bytes).header.type == .reset)
    }

    @Test func theMemoryOfFinishedConnectionsIsBounded() {
        var timeWait = UTPTimeWait<Int>(capacity: 8, duration: .seconds(60))
        let entry = UTPTimeWait<Int>.Entry(sendConnectionID: 1, sequenceNumber: 2, ackNumber: 3, window: 0)
        for key in 0..<1_000 { timeWait.remember(key, entry, now: UInt64(key)) }
        #expect(timeWait.count == 8)
        #expect(timeWait.contains(999) && !timeWait.contains(991))
        // One key remembered over and over (a peer reusing its connection ID) stays one entry.
        for step in 0..<1_000 { timeWait.remember(7, entry, now: 2_000 + UInt64(step)) }
        #expect(timeWait.count <= 8 && timeWait.contains(7))
    }
}
