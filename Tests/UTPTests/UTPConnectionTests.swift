import NIOCore
import Testing
@testable import UTP

/// Handshake, sequence numbers and buffers of a single connection, driven by hand.
@Suite struct UTPConnectionTests {
    static let t0 = NIODeadline.uptimeNanoseconds(5_000_000_000)

    static func decode(_ output: UTPConnectionOutput) -> [UTPPacket] {
        output.datagrams.map { try! UTPPacketCodec.decode($0) }
    }

    /// An initiator and an acceptor after the SYN / STATE exchange.
    static func handshake(initiatorSeq: UInt16 = 100, acceptorSeq: UInt16 = 5_000) -> (UTPConnection, UTPConnection) {
        var (initiator, synOutput) = UTPConnection.connect(receiveConnectionID: 0x1000, initialSequenceNumber: initiatorSeq, now: t0)
        let syn = decode(synOutput)[0]
        // The acceptor stays in synReceived until the initiator's first packet confirms it.
        let (acceptor, stateOutput) = UTPConnection.accept(syn: syn, initialSequenceNumber: acceptorSeq, now: t0)
        _ = initiator.receive(decode(stateOutput)[0], now: t0)
        return (initiator, acceptor)
    }

    @Test func theHandshakeFollowsBEP29ConnectionIDsAndSequenceNumbers() {
        let (initiator, synOutput) = UTPConnection.connect(receiveConnectionID: 0x1000, initialSequenceNumber: 100, now: Self.t0)
        let syn = Self.decode(synOutput)
        #expect(syn.count == 1)
        #expect(syn[0].header.type == .syn)
        #expect(syn[0].header.connectionID == 0x1000)  // the SYN names the initiator's receive ID
        #expect(syn[0].header.sequenceNumber == 100)
        #expect(initiator.state == .synSent)
        #expect(initiator.sendConnectionID == 0x1001)

        let (acceptor, stateOutput) = UTPConnection.accept(syn: syn[0], initialSequenceNumber: 5_000, now: Self.t0)
        let state = Self.decode(stateOutput)
        #expect(state.count == 1)
        #expect(state[0].header.type == .state)
        #expect(state[0].header.connectionID == 0x1000)  // the acceptor sends on the SYN's ID...
        #expect(acceptor.receiveConnectionID == 0x1001)  // ...and receives on ID + 1
        #expect(state[0].header.ackNumber == 100)
        #expect(state[0].header.sequenceNumber == 5_000)
        #expect(acceptor.state == .synReceived)

        var connected = initiator
        let output = connected.receive(state[0], now: Self.t0)
        #expect(output.events == [.connected])
        #expect(connected.state == .connected)
        #expect(connected.receiveBuffer.ackNumber == 4_999)
    }

    @Test func writingAndClosingBeforeTheHandshakeSendsDataThenFINOnceConnected() {
        var (initiator, synOutput) = UTPConnection.connect(receiveConnectionID: 0x2000, initialSequenceNumber: 1, now: Self.t0)
        #expect(initiator.send(ByteBuffer(string: "early"), now: Self.t0).datagrams.isEmpty)
        #expect(initiator.close(now: Self.t0).datagrams.isEmpty)
        #expect(initiator.state == .synSent)
        let (_, stateOutput) = UTPConnection.accept(syn: Self.decode(synOutput)[0], initialSequenceNumber: 50, now: Self.t0)
        synOutput = initiator.receive(Self.decode(stateOutput)[0], now: Self.t0)
        #expect(Self.decode(synOutput).map(\.header.type) == [.data, .fin])
        #expect(initiator.state == .finSent)
    }

    @Test func theAcceptorSendsNoDataUntilTheInitiatorConfirms() {
        var (initiator, acceptor) = Self.handshake()
        let early = acceptor.send(ByteBuffer(string: "hello"), now: Self.t0)
        #expect(early.datagrams.isEmpty)
        let data = initiator.send(ByteBuffer(string: "handshake"), now: Self.t0)
        let packets = Self.decode(data)
        #expect(packets.map(\.header.type) == [.data])
        #expect(packets[0].header.sequenceNumber == 101)
        #expect(packets[0].header.connectionID == 0x1001)
        let answer = acceptor.receive(packets[0], now: Self.t0)
        #expect(answer.events == [.connected])
        #expect(answer.delivered == [ByteBuffer(string: "handshake")])
        // Its queued data now goes out, carrying the ACK.
        let reply = Self.decode(answer)
        #expect(reply.map(\.header.type) == [.data])
        #expect(reply[0].header.ackNumber == 101)
        #expect(Array(buffer: reply[0].payload) == Array("hello".utf8))
    }

    @Test func sequenceNumbersWrapAroundSixteenBits() {
        var (initiator, acceptor) = Self.handshake(initiatorSeq: 0xFFFE, acceptorSeq: 0xFFFF)
        var delivered: [UInt8] = []
        var now = Self.t0
        for round in 0..<6 {
            now = now + .milliseconds(10)
            let out = initiator.send(ByteBuffer(bytes: [UInt8(round)]), now: now)
            for packet in Self.decode(out) {
                let answer = acceptor.receive(packet, now: now)
                delivered += answer.delivered.flatMap { Array(buffer: $0) }
                _ = Self.decode(answer).map { initiator.receive($0, now: now) }
            }
        }
        #expect(delivered == [0, 1, 2, 3, 4, 5])
        #expect(initiator.sendBuffer.isEmpty)
        // The SYN took 0xFFFE; six DATA packets later the acknowledgement has wrapped to 4.
        #expect(acceptor.receiveBuffer.ackNumber == 4)
    }

    @Test func outOfOrderPacketsAreHeldReportedBySelectiveAckAndReleasedInOrder() {
        var (initiator, acceptor) = Self.handshake()
        var packets: [UTPPacket] = []
        for index in 0..<4 {
            packets += Self.decode(initiator.send(ByteBuffer(bytes: [UInt8(index)]), now: Self.t0))
        }
        _ = acceptor.receive(packets[0], now: Self.t0)
        // Packet 1 lost; 2 and 3 arrive.
        _ = acceptor.receive(packets[2], now: Self.t0)
        let ack = Self.decode(acceptor.receive(packets[3], now: Self.t0))
        #expect(ack.count == 1)
        #expect(ack[0].header.ackNumber == packets[0].header.sequenceNumber)
        // ack_nr + 1 is the gap; bits 0 and 1 are ack_nr + 2 and + 3.
        #expect(ack[0].selectiveAck?.ackedOffsets == [0, 1])
        let released = acceptor.receive(packets[1], now: Self.t0)
        #expect(released.delivered.flatMap { Array(buffer: $0) } == [1, 2, 3])
        #expect(Self.decode(released)[0].selectiveAck == nil)
    }

    @Test func threeDuplicateAcksTriggerAFastRetransmitOfTheOldestPacket() {
        var (initiator, acceptor) = Self.handshake()
        // Grow the window so several packets can be in flight.
        var packets: [UTPPacket] = []
        packets += Self.decode(initiator.send(ByteBuffer(repeating: 1, count: 5 * 1_300), now: Self.t0))
        #expect(packets.count >= 2)
        // The first is lost; each later one brings a duplicate ACK (with SACK).
        var retransmitted: [UTPPacket] = []
        for packet in packets.dropFirst() {
            for ack in Self.decode(acceptor.receive(packet, now: Self.t0)) {
                retransmitted += Self.decode(initiator.receive(ack, now: Self.t0 + .milliseconds(5)))
            }
        }
        let resent = retransmitted.filter { $0.header.sequenceNumber == packets[0].header.sequenceNumber }
        #expect(packets.count < 4 || resent.count == 1)
        #expect(initiator.statistics.fastRetransmits >= (packets.count >= 4 ? 1 : 0))
    }

    @Test func anUnansweredPacketIsRetransmittedOnTimeoutWithBackoffThenTheConnectionGivesUp() {
        var (initiator, _) = Self.handshake()
        let first = initiator.send(ByteBuffer(string: "x"), now: Self.t0)
        #expect(first.datagrams.count == 1)
        var wake = try! #require(first.nextWakeup)
        var resendTimes: [Int64] = []
        var closed = false
        for _ in 0..<20 where !closed {
            let out = initiator.tick(now: wake)
            if out.events.contains(.closed(.timedOut)) { closed = true; break }
            if !out.datagrams.isEmpty { resendTimes.append((wake - Self.t0).nanoseconds / 1_000_000) }
            guard let next = out.nextWakeup else { break }
            wake = next
        }
        #expect(closed)
        // The handshake's near-zero RTT puts the timeout at BEP 29's 500 ms floor; it doubles
        // after each timeout, and the seventh consecutive one gives up.
        #expect(resendTimes == [500, 1_500, 3_500, 7_500, 15_500, 31_500])
        #expect(initiator.state == .closed(.timedOut))
    }

    @Test func anIdleConnectionSendsKeepAlivesAndDiesWhenThePeerFallsSilent() {
        var (initiator, _) = Self.handshake()
        let out = initiator.tick(now: Self.t0 + .seconds(29))
        #expect(Self.decode(out).map(\.header.type) == [.state])
        let dead = initiator.tick(now: Self.t0 + .seconds(90))
        #expect(dead.events == [.closed(.timedOut)])
    }

    @Test func aResetClosesTheConnectionAndAbortSendsOne() {
        var (initiator, acceptor) = Self.handshake()
        let reset = Self.decode(acceptor.abort(now: Self.t0))
        #expect(reset.map(\.header.type) == [.reset])
        #expect(reset[0].header.connectionID == initiator.receiveConnectionID)
        #expect(initiator.receive(reset[0], now: Self.t0).events == [.closed(.reset)])
        #expect(initiator.state == .closed(.reset))
    }

    @Test func theReceiveWindowIsAdvertisedAndRespected() {
        var config = UTPConnectionConfiguration()
        config.receiveBufferSize = 4_000
        var (initiator, synOutput) = UTPConnection.connect(receiveConnectionID: 7, initialSequenceNumber: 1, now: Self.t0, configuration: config)
        var (acceptor, stateOutput) = UTPConnection.accept(syn: Self.decode(synOutput)[0], initialSequenceNumber: 9, now: Self.t0, configuration: config)
        _ = initiator.receive(Self.decode(stateOutput)[0], now: Self.t0)
        var now = Self.t0
        var delivered = 0
        var pending = Self.decode(initiator.send(ByteBuffer(repeating: 7, count: 20_000), now: now))
        var maxAdvertised = 0
        // The application never reads: the sender must stop once the window is full.
        for _ in 0..<50 {
            now = now + .milliseconds(20)
            var next: [UTPPacket] = []
            for packet in pending {
                let out = acceptor.receive(packet, now: now)
                delivered += out.deliveredByteCount
                for ack in Self.decode(out) {
                    maxAdvertised = max(maxAdvertised, Int(ack.header.windowSize))
                    next += Self.decode(initiator.receive(ack, now: now))
                }
            }
            next += Self.decode(initiator.tick(now: now))
            pending = next
        }
        #expect(delivered <= 4_000 + config.maximumPayloadSize)
        #expect(delivered >= 4_000 - config.maximumPayloadSize)
        #expect(maxAdvertised <= 4_000)
        // Reading reopens the window and the rest flows.
        for packet in Self.decode(acceptor.consumed(delivered, now: now)) {
            #expect(Int(packet.header.windowSize) == 4_000)
        }
    }
}
