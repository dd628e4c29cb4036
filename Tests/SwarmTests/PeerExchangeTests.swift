import Identity
import PeerWire
import Testing
@testable import Swarm

@Suite struct PeerExchangeTests {
    static func address(_ index: Int, port: UInt16 = 6881) -> PeerAddress { PeerAddress(ip: .v4(0x0A00_0000 | UInt32(index)), port: port) }
    static func swarm(_ indices: [Int], flags: UTPex.Flags = []) -> [UInt64: UTPex.AddedPeer] {
        Dictionary(uniqueKeysWithValues: indices.map { (UInt64($0), UTPex.AddedPeer(address($0), flags: flags)) })
    }

    @Test func theFirstMessageListsTheSwarmThenOnlyChangesAtMostOnceAMinute() {
        var pex = PeerExchange()
        pex.peerReady(1, remoteID: 7)
        let first = pex.messagesDue(now: 0, swarm: Self.swarm([1, 2, 3]))
        #expect(first.count == 1)
        #expect(first.first?.0 == 1 && first.first?.1 == 7)
        #expect(Set(first.first!.2.added.map(\.address)) == [Self.address(2), Self.address(3)], "everyone but itself")
        #expect(pex.messagesDue(now: 30, swarm: Self.swarm([1, 3, 4])).isEmpty, "not twice within a minute")
        let next = pex.messagesDue(now: 60, swarm: Self.swarm([1, 3, 4]))
        #expect(next.first?.2.added.map(\.address) == [Self.address(4)])
        #expect(next.first?.2.dropped == [Self.address(2)])
        #expect(pex.messagesDue(now: 200, swarm: Self.swarm([1, 3, 4])).isEmpty, "nothing changed: nothing sent")
    }

    @Test func aChangedFlagIsAnnouncedAgain() {
        var pex = PeerExchange()
        pex.peerReady(1, remoteID: 7)
        _ = pex.messagesDue(now: 0, swarm: Self.swarm([1, 2]))
        let next = pex.messagesDue(now: 60, swarm: Self.swarm([1, 2], flags: .seed))
        #expect(next.first?.2.added == [UTPex.AddedPeer(Self.address(2), flags: .seed)], "it became a seed")
    }

    @Test func atMostFiftyAddedPerMessageAndTheRestNextTime() {
        var pex = PeerExchange()
        pex.peerReady(1, remoteID: 7)
        let swarm = Self.swarm(Array(1...81))
        #expect(pex.messagesDue(now: 0, swarm: swarm).first?.2.added.count == PeerExchange.maxAddedPerMessage)
        let rest = pex.messagesDue(now: 60, swarm: swarm).first?.2.added ?? []
        #expect(rest.count == 30, "80 others in all")
        #expect(Set(rest.map(\.address)).isDisjoint(with: [Self.address(1)]))
    }

    @Test func peersWithoutUTPexAreNotSentAnything() {
        var pex = PeerExchange()
        #expect(pex.messagesDue(now: 0, swarm: Self.swarm([1, 2])).isEmpty)
        pex.peerReady(1, remoteID: 7)
        pex.peerGone(1)
        #expect(pex.messagesDue(now: 0, swarm: Self.swarm([1, 2])).isEmpty)
    }

    @Test func receivedMessagesAreRateLimitedAndFiltered() {
        var pex = PeerExchange()
        pex.peerReady(1, remoteID: 7)
        let own = Self.address(99)
        let message = UTPex.Message(added: [UTPex.AddedPeer(Self.address(2)), UTPex.AddedPeer(own),
                                            UTPex.AddedPeer(PeerAddress(ip: .v4(0), port: 1)), UTPex.AddedPeer(Self.address(3, port: 0)),
                                            UTPex.AddedPeer(Self.address(2))])
        let learned = pex.received(message, from: 1, now: 0) { $0 == own }
        #expect(learned.map(\.address) == [Self.address(2)], "not ourselves, not unroutable, not port 0, not twice")
        let tooSoon = pex.received(UTPex.Message(added: [UTPex.AddedPeer(Self.address(4))]), from: 1, now: 10) { _ in false }
        #expect(tooSoon.isEmpty, "a second message within the minute is ignored")
        let later = pex.received(UTPex.Message(added: [UTPex.AddedPeer(Self.address(4))]), from: 1, now: 60) { _ in false }
        #expect(later.map(\.address) == [Self.address(4)])
        #expect(pex.received(message, from: 2, now: 0) { _ in false }.isEmpty, "a peer that did not offer ut_pex")
    }

    @Test func learnedAddressesAreCapped() {
        var pex = PeerExchange()
        var total = 0
        for round in 0..<10 {
            let key = UInt64(round + 1)
            pex.peerReady(key, remoteID: 7)
            let added = (0..<UTPex.maxEntriesPerList).map { UTPex.AddedPeer(Self.address(round * 1000 + $0 + 1)) }
            total += pex.received(UTPex.Message(added: added), from: key, now: 0) { _ in false }.count
        }
        #expect(total == PeerExchange.maxLearned)
    }

    /// seed ← middle ← newcomer, with ut_pex, run until the newcomer has heard of someone.
    /// A seed that serves nothing keeps everyone connected (a finished swarm disconnects seed from seed).
    static func newcomerBehindAMiddle(middleToSeedOverUTP: Bool) -> (swarm: SimulatedSwarm, seed: Int, newcomer: Int) {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 16384)
        swarm.extensions = .offered(fountain: false, pex: true)
        let seed = swarm.addSeed("seed", behaviour: .neverServes)
        let middle = swarm.addLeecher("middle")
        let newcomer = swarm.addLeecher("newcomer")
        swarm.connect(middle, seed, overUTP: middleToSeedOverUTP)
        swarm.connect(newcomer, middle)
        swarm.run(until: { !swarm.nodes[newcomer].discovered.isEmpty && !swarm.nodes[seed].discovered.isEmpty }, limit: 20)
        return (swarm, seed, newcomer)
    }

    @Test func aDownloaderThatKnowsOnePeerLearnsOfTheSeedBehindIt() {
        let (swarm, seed, newcomer) = Self.newcomerBehindAMiddle(middleToSeedOverUTP: false)
        #expect(swarm.nodes[newcomer].discovered == [UTPex.AddedPeer(SimulatedSwarm.address(of: seed), flags: [.seed, .reachable])],
                "the middle dialled the seed: reachable, and a seed")
        #expect(swarm.nodes[seed].discovered.map(\.address) == [SimulatedSwarm.address(of: newcomer)],
                "an incoming peer is passed on at its BEP 10 listen port, without the reachable flag")
        #expect(swarm.nodes[seed].discovered.first?.flags == [])
    }

    @Test func aPeerReachedOverUTPIsPassedOnWithTheUTPFlag() {
        let (swarm, seed, newcomer) = Self.newcomerBehindAMiddle(middleToSeedOverUTP: true)
        #expect(swarm.nodes[newcomer].discovered == [UTPex.AddedPeer(SimulatedSwarm.address(of: seed), flags: [.seed, .reachable, .supportsUTP])],
                "the middle's connection to the seed runs over uTP: the seed speaks it")
        #expect(swarm.nodes[seed].discovered.first?.flags == [], "the newcomer reached the middle over TCP: no uTP flag for it")
    }

    @Test func withoutUTPexNoMessageIsSent() {
        let swarm = SimulatedSwarm(size: 200_000, pieceLength: 16384)
        swarm.extensions = .offered(fountain: false, pex: false)
        let seed = swarm.addSeed("seed")
        let middle = swarm.addLeecher("middle")
        let newcomer = swarm.addLeecher("newcomer")
        swarm.connect(middle, seed)
        swarm.connect(newcomer, middle)
        swarm.run(until: { swarm.nodes[newcomer].machine.isComplete }, limit: 120)
        #expect(swarm.nodes[newcomer].discovered.isEmpty && swarm.nodes[seed].discovered.isEmpty)
    }
}
