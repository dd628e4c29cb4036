import NIOCore
import Testing
@testable import UTP

/// ACKs held back until a read batch is processed (`deferringAcks`), as libtorrent and libutp
/// do: a burst costs one STATE, not one per DATA packet.
@Suite struct UTPDeferredAckTests {
    @Test func aBurstReadInOneBatchIsAnsweredWithOneAckOnceTheBatchIsDone() throws {
        var configuration = UTPSocketManager<Int>.Configuration()
        configuration.connection.congestion.initialWindow = 100_000
        var sender = UTPSocketManager<Int>(configuration: configuration)
        var receiver = UTPSocketManager<Int>(configuration: configuration)
        var random = SeededGenerator(seed: 21)
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let (maybeKey, syn) = sender.connect(to: 2, now: now, random: &random)
        let key = try #require(maybeKey)
        let synAck = receiver.receive(syn.datagrams[0].bytes, from: 1, now: now, random: &random)
        _ = sender.receive(synAck.datagrams[0].bytes, from: 2, now: now, random: &random)
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
        var a = UTPSocketManager<Int>()
        var b = UTPSocketManager<Int>()
        var random = SeededGenerator(seed: 23)
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let (maybeKey, syn) = a.connect(to: 2, now: now, random: &random)
        let key = try #require(maybeKey)
        let synAck = b.receive(syn.datagrams[0].bytes, from: 1, now: now, random: &random)
        _ = a.receive(synAck.datagrams[0].bytes, from: 2, now: now, random: &random)
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
        var configuration = UTPSocketManager<Int>.Configuration()
        configuration.connection.congestion.initialWindow = 100_000
        var sender = UTPSocketManager<Int>(configuration: configuration)
        var receiver = UTPSocketManager<Int>(configuration: configuration)
        var random = SeededGenerator(seed: 22)
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let (maybeKey, syn) = sender.connect(to: 2, now: now, random: &random)
        let key = try #require(maybeKey)
        let synAck = receiver.receive(syn.datagrams[0].bytes, from: 1, now: now, random: &random)
        _ = sender.receive(synAck.datagrams[0].bytes, from: 2, now: now, random: &random)
        let burst = sender.send(TestStream.bytes(0..<5_000), on: key, now: now)
        for datagram in burst.datagrams {
            #expect(receiver.receive(datagram.bytes, from: 1, now: now, random: &random).datagrams.count == 1)
        }
    }
}
