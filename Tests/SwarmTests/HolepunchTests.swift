import Identity
import PeerWire
import Testing
@testable import Swarm

@Suite struct HolepunchTests {
    static func address(_ index: Int, port: UInt16 = 6881) -> PeerAddress { PeerAddress(ip: .v4(0x0A00_0000 | UInt32(index)), port: port) }
    static let me = address(99)
    static func own(_ address: PeerAddress) -> Bool { address == me }
    static func never(_: PeerAddress) -> Bool { false }

    /// A relay connected to A (key 1) and B (key 2), both speaking holepunch.
    static func relay() -> Holepunch {
        var holepunch = Holepunch()
        holepunch.peerReady(1, address: address(1), remoteID: 11)
        holepunch.peerReady(2, address: address(2), remoteID: 12)
        return holepunch
    }

    @Test func theRelayIntroducesTwoConnectedPeersToEachOther() {
        var relay = Self.relay()
        let out = relay.received(.rendezvous(Self.address(2)), from: 1, now: 0, isOwnAddress: Self.own, isConnected: Self.never)
        #expect(out == [.send(1, remoteID: 11, .connect(Self.address(2))), .send(2, remoteID: 12, .connect(Self.address(1)))])
    }

    @Test func theRelayAnswersWhatItCannotDoWithBEP55Errors() {
        var relay = Self.relay()
        relay.peerReady(3, address: Self.address(3), remoteID: nil)
        func ask(_ target: PeerAddress) -> [Holepunch.Output] {
            relay.received(.rendezvous(target), from: 1, now: 0, isOwnAddress: Self.own, isConnected: Self.never)
        }
        #expect(ask(Self.me) == [.send(1, remoteID: 11, .error(Self.me, .noSelf))])
        #expect(ask(Self.address(3)) == [.send(1, remoteID: 11, .error(Self.address(3), .noSupport))])
        #expect(ask(Self.address(4)) == [.send(1, remoteID: 11, .error(Self.address(4), .notConnected))])
        #expect(ask(Self.address(1)) == [.send(1, remoteID: 11, .error(Self.address(1), .noSuchPeer))], "itself")
        let v6 = PeerAddress(ip: IPAddress("2001:db8::2")!, port: 6881)
        #expect(ask(v6) == [.send(1, remoteID: 11, .error(v6, .noSuchPeer))], "an IPv4 peer cannot be introduced to an IPv6 one")
    }

    @Test func aPeerGoneIsNoLongerIntroduced() {
        var relay = Self.relay()
        relay.peerGone(2)
        let out = relay.received(.rendezvous(Self.address(2)), from: 1, now: 0, isOwnAddress: Self.own, isConnected: Self.never)
        #expect(out == [.send(1, remoteID: 11, .error(Self.address(2), .notConnected))])
    }

    @Test func aFloodOfRendezvousIsCutToTheWindowsAllowance() {
        var relay = Self.relay()
        var answered = 0
        for index in 0..<10_000 {
            let out = relay.received(.rendezvous(Self.address(1000 + index)), from: 1, now: Double(index) / 1000,
                                     isOwnAddress: Self.own, isConnected: Self.never)
            answered += out.count
        }
        #expect(answered == Holepunch.maxRelayedPerWindow)
        #expect(relay.pending.isEmpty && relay.sources.isEmpty, "relaying keeps no per-request state")
        let later = relay.received(.rendezvous(Self.address(2)), from: 1, now: 61, isOwnAddress: Self.own, isConnected: Self.never)
        #expect(later.count == 2, "a new window")
    }

    @Test func messagesFromAPeerWithoutHolepunchAreIgnored() {
        var relay = Self.relay()
        relay.peerReady(3, address: Self.address(3), remoteID: nil)
        #expect(relay.received(.rendezvous(Self.address(2)), from: 3, now: 0, isOwnAddress: Self.own, isConnected: Self.never).isEmpty)
        #expect(relay.received(.connect(Self.address(2)), from: 7, now: 0, isOwnAddress: Self.own, isConnected: Self.never).isEmpty)
    }

    @Test func theInitiatorAsksThePeerThatToldItOfTheTarget() {
        var holepunch = Self.relay()
        holepunch.learned([Self.address(5)], from: 2)
        #expect(holepunch.unreachable(Self.address(5), now: 0) == [.send(2, remoteID: 12, .rendezvous(Self.address(5)))])
        #expect(holepunch.unreachable(Self.address(5), now: 1).isEmpty, "one request at a time")
        // Without a source, any holepunch peer relays.
        #expect(holepunch.unreachable(Self.address(6), now: 0) == [.send(1, remoteID: 11, .rendezvous(Self.address(6)))])
    }

    @Test func noRelayNoRequest() {
        var holepunch = Holepunch()
        holepunch.peerReady(3, address: Self.address(3), remoteID: nil)
        #expect(holepunch.unreachable(Self.address(5), now: 0).isEmpty)
    }

    @Test func aTargetIsNotAskedForAgainSoon() {
        var holepunch = Self.relay()
        _ = holepunch.unreachable(Self.address(5), now: 0)
        #expect(holepunch.unreachable(Self.address(5), now: 40).isEmpty, "the first ran out, but it is too soon")
        #expect(holepunch.unreachable(Self.address(5), now: 301).count == 1)
    }

    @Test func pendingIntroductionsAreBounded() {
        var holepunch = Self.relay()
        var sent = 0
        for index in 0..<500 { sent += holepunch.unreachable(Self.address(100 + index), now: 0).count }
        #expect(sent == Holepunch.maxPending)
        #expect(holepunch.pending.count == Holepunch.maxPending)
    }

    @Test func connectMeansDialNowWithinBounds() {
        var holepunch = Self.relay()
        #expect(holepunch.received(.connect(Self.address(5)), from: 1, now: 0, isOwnAddress: Self.own, isConnected: Self.never)
                == [.dial(Self.address(5))])
        #expect(holepunch.received(.connect(Self.me), from: 1, now: 0, isOwnAddress: Self.own, isConnected: Self.never).isEmpty)
        #expect(holepunch.received(.connect(Self.address(6)), from: 1, now: 0, isOwnAddress: Self.own, isConnected: { _ in true }).isEmpty,
                "already connected")
        let broadcast = PeerAddress(ip: IPAddress("255.255.255.255")!, port: 80)
        #expect(holepunch.received(.connect(broadcast), from: 1, now: 0, isOwnAddress: Self.own, isConnected: Self.never).isEmpty)
        var dials = 1
        for index in 0..<1000 {
            dials += holepunch.received(.connect(Self.address(200 + index)), from: 2, now: 1, isOwnAddress: Self.own,
                                        isConnected: Self.never).count
        }
        #expect(dials == Holepunch.maxDialsPerWindow, "a relay cannot make us a flood source")
    }

    @Test func anErrorEndsOurRequestAndOnlyOurs() {
        var holepunch = Self.relay()
        _ = holepunch.unreachable(Self.address(5), now: 0)
        #expect(holepunch.received(.error(Self.address(5), .notConnected), from: 1, now: 1, isOwnAddress: Self.own,
                                   isConnected: Self.never) == [.failed(Self.address(5), .notConnected)])
        #expect(holepunch.pending.isEmpty)
        #expect(holepunch.received(.error(Self.address(7), .noSupport), from: 1, now: 1, isOwnAddress: Self.own,
                                   isConnected: Self.never).isEmpty, "an error we did not ask for")
    }

    @Test func whatPexTaughtIsBoundedAndForgottenWithItsSource() {
        var holepunch = Self.relay()
        holepunch.learned((0..<5000).map { Self.address(1000 + $0) }, from: 2)
        #expect(holepunch.sources.count == Holepunch.maxSources)
        holepunch.peerGone(2)
        #expect(holepunch.sources.isEmpty)
    }
}
