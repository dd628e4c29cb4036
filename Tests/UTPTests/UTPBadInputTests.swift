import NIOCore
import Testing
@testable import UTP

/// Issue 12 item 6: hostile and broken input to the socket manager and its connections. Each
/// test checks that state stays bounded, nothing crashes, and a legitimate connection is still
/// served.
@Suite struct UTPBadInputTests {
    /// An attacker's datagram, injected at the receiving manager as if from `from`.
    static func inject(_ network: inout SimulatedNetwork, _ packet: UTPPacket, from: Int, to: Int = 2) {
        let bytes = UTPPacketCodec.encode(packet)
        network.act(to) { manager, now, random in manager.receive(bytes, from: from, now: now, random: &random) }
    }

    @Test func malformedDatagramsAreCountedAndChangeNothing() {
        var manager = UTPSocketManager<Int>()
        var random = SeededGenerator(seed: 3)
        let garbage: [[UInt8]] = [[], [0x41], [0x41] + [UInt8](repeating: 0, count: 18), [0x42] + [UInt8](repeating: 0, count: 19),
                                  [0x41, 0x01] + [UInt8](repeating: 0, count: 18) + [0, 7, 1]]
        for bytes in garbage {
            let output = manager.receive(ByteBuffer(bytes: bytes), from: 9, now: .uptimeNanoseconds(1), random: &random)
            #expect(output.datagrams.isEmpty)
            #expect(output.events.isEmpty)
        }
        #expect(manager.statistics.malformedDatagrams == garbage.count)
        #expect(manager.connectionCount == 0)
    }

    @Test func randomDatagramsNeverCrashAndLeaveBoundedState() {
        var manager = UTPSocketManager<Int>()
        var random = SeededGenerator(seed: 5)
        for index in 0..<20_000 {
            var bytes = (0..<Int.random(in: 0...80, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if bytes.count > 0 { bytes[0] = UInt8.random(in: 0...4, using: &random) << 4 | 1 }
            _ = manager.receive(ByteBuffer(bytes: bytes), from: index % 50, now: .uptimeNanoseconds(UInt64(index) * 1_000), random: &random)
        }
        #expect(manager.halfOpenCount <= manager.configuration.maximumHalfOpenConnections)
        #expect(manager.connectionCount <= manager.configuration.maximumHalfOpenConnections)
    }

    @Test func acksForDataNeverSentAreIgnoredAndTheTransferStillCompletes() {
        var network = SimulatedNetwork(toA: LinkProfile(delay: 5_000_000), toB: LinkProfile(delay: 5_000_000))
        var injected = false
        let outcome = network.transfer(byteCount: 256 << 10, seconds: 30) { network in
            guard !injected, let key = network.managers[1]!.connectionKeys.first,
                  let connection = network.managers[1]!.connection(key), connection.state == .finSent,
                  !connection.sendBuffer.isEmpty
            else { return }
            injected = true
            let inFlightBefore = connection.sendBuffer.bytesInFlight
            // The peer (address 2) "acknowledges" 1,000 packets into the future, twice.
            for offset: UInt16 in [1_000, 30_000] {
                let forged = UTPHeader(
                    type: .state, connectionID: connection.receiveConnectionID, timestampMicroseconds: 1,
                    windowSize: 1 << 20, sequenceNumber: 0, ackNumber: connection.sendBuffer.nextSequenceNumber &+ offset)
                Self.inject(&network, UTPPacket(header: forged), from: 2, to: 1)
            }
            let after = network.managers[1]!.connection(key)!
            #expect(after.statistics.packetsRejected == connection.statistics.packetsRejected + 2)
            #expect(after.sendBuffer.bytesInFlight == inFlightBefore)
        }
        #expect(injected)
        #expect(outcome.received == 256 << 10)
        #expect(outcome.firstMismatch == nil)
    }

    @Test func aHugeAdvertisedWindowDoesNotLetTheSenderPastItsCongestionWindow() {
        var (initiator, acceptor) = UTPConnectionTests.handshake()
        _ = acceptor
        let out = initiator.send(ByteBuffer(repeating: 0, count: 4 << 20), now: UTPConnectionTests.t0)
        let forged = UTPHeader(
            type: .state, connectionID: initiator.receiveConnectionID, windowSize: .max,
            sequenceNumber: 5_000, ackNumber: 100)
        let more = initiator.receive(UTPPacket(header: forged), now: UTPConnectionTests.t0)
        let sent = (out.datagrams + more.datagrams).reduce(0) { $0 + $1.readableBytes }
        #expect(Double(initiator.sendBuffer.bytesInFlight) <= initiator.congestion.window)
        #expect(sent < 16 * 1_400)
    }

    @Test func dataFarOutsideTheWindowIsDroppedWithoutBeingStored() {
        var (initiator, acceptor) = UTPConnectionTests.handshake()
        let first = UTPConnectionTests.decode(initiator.send(ByteBuffer(string: "a"), now: UTPConnectionTests.t0))[0]
        _ = acceptor.receive(first, now: UTPConnectionTests.t0)
        let base = acceptor.receiveBuffer.ackNumber
        for offset: UInt16 in [2_000, 20_000, 40_000, 65_000] {
            var packet = first
            packet.header.sequenceNumber = base &+ offset
            packet.payload = ByteBuffer(repeating: 1, count: 1_000)
            let out = acceptor.receive(packet, now: UTPConnectionTests.t0)
            #expect(out.delivered.isEmpty)
        }
        #expect(acceptor.receiveBuffer.reorderedBytes == 0)
        #expect(acceptor.receiveBuffer.ackNumber == base)
    }

    @Test func outOfOrderDataCannotGrowTheReorderBufferPastTheReceiveBuffer() {
        var (initiator, acceptor) = UTPConnectionTests.handshake()
        let first = UTPConnectionTests.decode(initiator.send(ByteBuffer(string: "a"), now: UTPConnectionTests.t0))[0]
        _ = acceptor.receive(first, now: UTPConnectionTests.t0)
        let base = acceptor.receiveBuffer.ackNumber
        // 1,000 packets of 1,300 bytes past a gap: 1.3 MB against a 1 MiB buffer.
        for offset in 2...1_001 {
            var packet = first
            packet.header.sequenceNumber = base &+ UInt16(offset)
            packet.payload = ByteBuffer(repeating: 1, count: 1_300)
            _ = acceptor.receive(packet, now: UTPConnectionTests.t0)
        }
        #expect(acceptor.receiveBuffer.reorderedBytes <= acceptor.configuration.receiveBufferSize)
        #expect(acceptor.receiveBuffer.reorderedBytes > 0)
    }

    @Test func aSynCollidingWithOurOwnConnectionIDIsResetAndOurConnectionLivesOn() throws {
        var network = SimulatedNetwork(toA: LinkProfile(delay: 5_000_000), toB: LinkProfile(delay: 5_000_000))
        let key = network.connect()
        while network.step(until: network.now + 100_000_000) {}
        #expect(network.managers[1]!.connection(key)?.state == .connected)
        // Address 2 opens a connection whose acceptor-side receive ID (its ID + 1) is the ID
        // our outgoing connection already receives on.
        let syn = UTPHeader(type: .syn, connectionID: key.receiveConnectionID &- 1, timestampMicroseconds: 1, windowSize: 1 << 20, sequenceNumber: 77)
        var captured: UTPSocketManager<Int>.Output?
        network.act(1) { manager, now, random in
            let output = manager.receive(UTPPacketCodec.encode(UTPPacket(header: syn)), from: 2, now: now, random: &random)
            captured = output
            return UTPSocketManager<Int>.Output()
        }
        let reply = try UTPPacketCodec.decode(#require(captured?.datagrams.first).bytes)
        #expect(reply.header.type == .reset)
        #expect(reply.header.connectionID == syn.connectionID)
        #expect(network.managers[1]!.statistics.connectionIDCollisions == 1)
        #expect(network.managers[1]!.connection(key)?.state == .connected)
        #expect(network.managers[1]!.connectionCount == 1)
    }

    @Test func aRepeatedSynIsAnsweredAgainNotAcceptedTwice() {
        var manager = UTPSocketManager<Int>()
        var random = SeededGenerator(seed: 8)
        let syn = UTPPacketCodec.encode(UTPPacket(header: UTPHeader(type: .syn, connectionID: 500, timestampMicroseconds: 1, windowSize: 65_536, sequenceNumber: 9)))
        let first = manager.receive(syn, from: 4, now: .uptimeNanoseconds(1_000), random: &random)
        let second = manager.receive(syn, from: 4, now: .uptimeNanoseconds(2_000), random: &random)
        #expect(first.events.count == 1)
        #expect(second.events.isEmpty)
        #expect(manager.connectionCount == 1)
        let answers = [first, second].map { try! UTPPacketCodec.decode($0.datagrams[0].bytes).header }
        #expect(answers[0].type == .state && answers[1].type == .state)
        #expect(answers[0].sequenceNumber == answers[1].sequenceNumber)
        #expect(answers[1].ackNumber == 9)
    }

    @Test func theSameConnectionIDFromTwoAddressesIsTwoConnections() {
        var manager = UTPSocketManager<Int>()
        var random = SeededGenerator(seed: 9)
        let syn = UTPPacketCodec.encode(UTPPacket(header: UTPHeader(type: .syn, connectionID: 500, timestampMicroseconds: 1, windowSize: 65_536, sequenceNumber: 9)))
        _ = manager.receive(syn, from: 4, now: .uptimeNanoseconds(1_000), random: &random)
        _ = manager.receive(syn, from: 5, now: .uptimeNanoseconds(1_000), random: &random)
        #expect(manager.connectionCount == 2)
    }

    @Test func aPacketForNoConnectionIsAnsweredWithAResetButAResetIsNot() throws {
        var manager = UTPSocketManager<Int>()
        var random = SeededGenerator(seed: 10)
        let data = UTPPacketCodec.encode(UTPPacket(header: UTPHeader(type: .data, connectionID: 42, sequenceNumber: 3), payload: ByteBuffer(string: "x")))
        let reset = UTPPacketCodec.encode(UTPPacket(header: UTPHeader(type: .reset, connectionID: 42)))
        let answer = manager.receive(data, from: 4, now: .uptimeNanoseconds(1), random: &random)
        #expect(answer.datagrams.count == 1)
        #expect(try UTPPacketCodec.decode(answer.datagrams[0].bytes).header.type == .reset)
        #expect(answer.datagrams[0].bytes.readableBytes <= data.readableBytes)
        #expect(manager.receive(reset, from: 4, now: .uptimeNanoseconds(2), random: &random).datagrams.isEmpty)
        #expect(manager.connectionCount == 0)
    }

    @Test func aResetFromAnotherAddressDoesNotCloseAConnection() {
        var network = SimulatedNetwork()
        let key = network.connect()
        while network.step(until: network.now + 100_000_000) {}
        let connection = network.managers[1]!.connection(key)!
        Self.inject(&network, UTPPacket(header: UTPHeader(type: .reset, connectionID: connection.receiveConnectionID)), from: 99, to: 1)
        #expect(network.managers[1]!.connection(key)?.state == .connected)
    }

    @Test func aSynFloodFromManyPortsHoldsBoundedStateAndARealPeerStillConnects() {
        var config = UTPSocketManager<Int>.Configuration()
        config.maximumHalfOpenConnections = 32
        var network = SimulatedNetwork(
            configuration: config, toA: LinkProfile(delay: 10_000_000), toB: LinkProfile(delay: 10_000_000, rate: 2e6))
        // SYNs from up to 20,000 "ports" (addresses 1000...), 500 per second, during the transfer:
        // fewer than 32 per round trip, so the real initiator confirms before it could be evicted.
        var sent = 0
        var peakConnections = 0
        var lastFlood = network.now
        let outcome = network.transfer(byteCount: 1 << 20, seconds: 30) { network in
            while sent < 20_000, lastFlood + 2_000_000 <= network.now {
                lastFlood += 2_000_000
                let syn = UTPHeader(
                    type: .syn, connectionID: UInt16(truncatingIfNeeded: sent), timestampMicroseconds: 1,
                    windowSize: 1 << 20, sequenceNumber: UInt16(truncatingIfNeeded: sent * 7))
                Self.inject(&network, UTPPacket(header: syn), from: 1_000 + sent, to: 2)
                sent += 1
                peakConnections = max(peakConnections, network.managers[2]!.connectionCount)
            }
        }
        #expect(sent > 1_000)
        #expect(peakConnections <= 32 + 1)
        #expect(network.managers[2]!.halfOpenCount <= 32)
        #expect(network.managers[2]!.statistics.halfOpenEvicted > 0)
        #expect(outcome.received == 1 << 20)
        #expect(outcome.firstMismatch == nil)
    }
}
