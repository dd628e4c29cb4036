import Metainfo
import Testing
@testable import Swarm

/// The choker sub-machine on its own: who gets the regular and optimistic
/// slots, when the optimistic slot is re-drawn, and how free slots fill.
@Suite struct ChokerTests {
    static func peer(_ key: UInt64, rate: Double = 0, interested: Bool = true, seed: Bool = false,
                     unchoked: Bool = false, optimistic: Bool = false) -> Choker.Peer {
        Choker.Peer(key: key, interested: interested, isSeed: seed, rate: rate, unchoked: unchoked, optimistic: optimistic)
    }

    static func choker() -> Choker { Choker(regularSlots: 2, roundInterval: 10, optimisticInterval: 30) }

    @Test func regularSlotsGoToTheFastestInterestedPeersThatAreNotSeeds() {
        var choker = Self.choker()
        var random = SplitMix64(seed: 1)
        let peers = [Self.peer(1, rate: 10), Self.peer(2, rate: 50), Self.peer(3, rate: 90, interested: false),
                     Self.peer(4, rate: 99, seed: true), Self.peer(5, rate: 50), Self.peer(6, rate: 20)]
        let round = choker.round(now: 0, peers: peers, random: &random)
        #expect(round.regular == [2, 5], "the two best rates; the uninterested and the seed never count")
        #expect(round.optimistic.map { [1, 6].contains($0) } == true, "the optimistic slot goes to a choked candidate")
        #expect(!round.unchokes(3) && !round.unchokes(4))
    }

    @Test func equalRatesGoToTheLowerKey() {
        var choker = Self.choker()
        var random = SplitMix64(seed: 1)
        let round = choker.round(now: 0, peers: [Self.peer(9), Self.peer(3), Self.peer(7)], random: &random)
        #expect(round.regular == [3, 7])
        #expect(round.optimistic == 9, "the only one left")
    }

    @Test func theOptimisticSlotIsKeptUntilItsIntervalThenRedrawn() throws {
        var choker = Self.choker()
        var random = SplitMix64(seed: 7)
        let fast = [Self.peer(1, rate: 100), Self.peer(2, rate: 90)]
        let slow = (10..<20).map { Self.peer(UInt64($0)) }
        let first = choker.round(now: 0, peers: fast + slow, random: &random)
        let holder = try #require(first.optimistic)
        let marked = slow.map { Self.peer($0.key, optimistic: $0.key == holder) }
        #expect(choker.round(now: 10, peers: fast + marked, random: &random).optimistic == holder, "kept within 30 s")
        #expect(choker.round(now: 20, peers: fast + marked, random: &random).optimistic == holder)
        var redrawn = Set<UInt64>()
        for now in stride(from: 30.0, through: 300, by: 30) {
            if let next = choker.round(now: now, peers: fast + marked, random: &random).optimistic { redrawn.insert(next) }
        }
        #expect(!redrawn.contains(holder), "each draw skips the peer that held the slot")
        #expect(redrawn.count > 1, "and draws at random among the others")
    }

    @Test func anOptimisticPeerThatLostInterestLosesItsSlotAtOnce() {
        var choker = Self.choker()
        var random = SplitMix64(seed: 3)
        let peers = [Self.peer(1, rate: 100), Self.peer(2, rate: 90),
                     Self.peer(3, interested: false, unchoked: true, optimistic: true), Self.peer(4)]
        #expect(choker.round(now: 0, peers: peers, random: &random).optimistic == 4)
    }

    @Test func freeRegularSlotsFillLowestKeyFirstAndTheOptimisticSlotDoesNotCount() {
        let choker = Self.choker()
        let peers = [Self.peer(5), Self.peer(4), Self.peer(3, interested: false),
                     Self.peer(2, unchoked: true, optimistic: true), Self.peer(8)]
        #expect(choker.slotsToFill(peers) == [4, 5])
        let full = [Self.peer(1, unchoked: true), Self.peer(2, unchoked: true), Self.peer(3)]
        #expect(choker.slotsToFill(full).isEmpty)
    }

    @Test func losingInterestChokesARegularSlotButNotTheOptimisticOne() {
        let choker = Self.choker()
        #expect(choker.chokesWhenUninterested(Self.peer(1, interested: false, unchoked: true)))
        #expect(!choker.chokesWhenUninterested(Self.peer(1, interested: false, unchoked: true, optimistic: true)))
        #expect(!choker.chokesWhenUninterested(Self.peer(1, interested: false)))
    }

    @Test func roundsComeEveryInterval() {
        var choker = Self.choker()
        var random = SplitMix64(seed: 1)
        #expect(choker.roundDue(now: 0))
        _ = choker.round(now: 5, peers: [Choker.Peer](), random: &random)
        #expect(!choker.roundDue(now: 14.9))
        #expect(choker.roundDue(now: 15))
    }
}
