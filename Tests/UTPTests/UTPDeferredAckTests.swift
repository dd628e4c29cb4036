import NIOCore
import Testing
@testable import UTP

/// ACKs held back until a read batch is processed (`deferringAcks`), as libtorrent and libutp
/// do: a burst costs one STATE, not one per DATA packet.
@Suite struct UTPDeferredAckTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// Two socket managers with one connection between them (address 1 dialled address 2), at `start`.
    static func connectedPair(seed: UInt64, initialWindow: Double? = nil) throws
        -> (UTPSocketManager<Int>, UTPSocketManager<Int>, UTPSocketManager<Int>.Key, SeededGenerator) {
        var configuration = UTPSocketManager<Int>.Configuration()
        if let initialWindow { configuration.connection.congestion.initialWindow = initialWindow }
        var initiator = UTPSocketManager<Int>(configuration: configuration)
        var acceptor = UTPSocketManager<Int>(configuration: configuration)
        var random = SeededGenerator(seed: seed)
        let (maybeKey, syn) = initiator.connect(to: 2, now: start, random: &random)
        let key = try #require(maybeKey)
        let synAck = acceptor.receive(syn.datagrams[0].bytes, from: 1, now: start, random: &random)
        _ = initiator.receive(synAck.datagrams[0].bytes, from: 2, now: start, random: &random)
        return (initiator, acceptor, key, random)
    }

    @Test func aBurstReadInOneBatchIsAnsweredWithOneAckOnceTheBatchIsDone() throws {
        var (sender, receiver, key, random) = try Self.connectedPair(seed: 21, initialWindow: 100_000)
        var now = Self.start
        let burst = sender.send(TestStream.bytes(0..<5_000), on: key, now: now)
        #expect(burst.datagrams.count > 2)

        now = now + .milliseconds(10)
        var delivered = 0
        for datagram in burst.datagrams {
            let output = receiver.receive(datagram.bytes, from: 1, now: now, random: &random, deferringAcks: true)
            #expect(output.datagrams.isEmpty, "no ACK per packet while the batch is read")
            for case .delivered(let at, let bytes) in output.events {
                delivered += bytes.readableBytes
                #expect(receiver.consumed(bytes.readableBytes, on: at, now: now, deferringAck: true).datagrams.isEmpty)
            }
        }
        #expect(delivered == 5_000)

        let acks = receiver.sendDeferredAcks(now: now)
        #expect(acks.datagrams.count == 1)
        let ack = try UTPPacketCodec.decode(acks.datagrams[0].bytes).header
        let lastSent = try UTPPacketCodec.decode(#require(burst.datagrams.last).bytes).header.sequenceNumber
        #expect(ack.type == .state)
        #expect(ack.ackNumber == lastSent)
        _ = sender.receive(acks.datagrams[0].bytes, from: 2, now: now, random: &random)
        #expect(sender.connection(key)?.unacknowledgedPackets == 0)
        // Nothing more is owed.
        #expect(receiver.sendDeferredAcks(now: now).datagrams.isEmpty)
    }

    @Test func theAckOfTheFinThatClosesAConnectionIsSentAtOnceEvenWhenDeferring() throws {
        var (a, b, key, random) = try Self.connectedPair(seed: 23)
        let now = Self.start
        var fromA = a.send(TestStream.bytes(0..<1_000), on: key, now: now).datagrams
        fromA += a.close(key, now: now).datagrams
        var bKey: UTPSocketManager<Int>.Key?
        for datagram in fromA {
            let output = b.receive(datagram.bytes, from: 1, now: now, random: &random, deferringAcks: true)
            for case .endOfStream(let at) in output.events { bKey = at }
        }
        // B finishes too: its FIN carries the ACK of A's FIN.
        let closingKey = try #require(bKey)
        let finFromB = try #require(b.close(closingKey, now: now).datagrams.last)
        let bFin = try UTPPacketCodec.decode(finFromB.bytes).header
        #expect(bFin.type == .fin)
        // A now has its FIN acknowledged and B's FIN: it closes, and must not take the ACK with it.
        let last = a.receive(finFromB.bytes, from: 2, now: now, random: &random, deferringAcks: true)
        #expect(last.events.contains(.closed(key, .finished)))
        let ack = try UTPPacketCodec.decode(#require(last.datagrams.first).bytes).header
        #expect(ack.type == .state)
        #expect(ack.ackNumber == bFin.sequenceNumber)
    }

    @Test func withoutDeferringEveryDataPacketIsAnsweredAtOnce() throws {
        var (sender, receiver, key, random) = try Self.connectedPair(seed: 22, initialWindow: 100_000)
        let now = Self.start
        let burst = sender.send(TestStream.bytes(0..<5_000), on: key, now: now)
        for datagram in burst.datagrams {
            #expect(receiver.receive(datagram.bytes, from: 1, now: now, random: &random).datagrams.count == 1)
        }
    }
}
