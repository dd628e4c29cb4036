import Metainfo
import Identity
import Testing
@testable import DHT

@Suite struct RoutingTableTests {
    let now = DHTInstant.seconds(100)
    let ownID = NodeID(hex: "8000000000000000000000000000000000000000")!

    func contact(_ id: NodeID, _ address: String) -> NodeContact { NodeContact(id: id, address: NodeAddress(address)!) }

    /// An ID sharing exactly `prefix` bits with ownID, made unique by `index`.
    func id(sharing prefix: Int, index: Int) -> NodeID {
        ownID.flippingBit(prefix).keepingPrefix(prefix + 1, randomRest: NodeID(high: 0, middle: UInt64(index), low: UInt32(index)))
    }

    @Test func splitsAroundOwnIDAndKeepsKPerBucket() {
        var table = RoutingTable(ownID: ownID, now: now)
        // 20 far nodes (first bit differs): one bucket of 8, the rest cached.
        for index in 0..<20 { table.nodeResponded(contact(id(sharing: 0, index: index), "10.0.0.\(index + 1):1"), tier: .plain, roundTrip: nil, now: now) }
        // Near nodes make the own-side bucket split.
        for prefix in 1..<6 {
            for index in 0..<3 { table.nodeResponded(contact(id(sharing: prefix, index: index), "10.0.\(prefix).\(index + 1):1"), tier: .plain, roundTrip: nil, now: now) }
        }
        #expect(table.count == 8 + 15)
        #expect(table.bucketCount >= 2)
        #expect(table.summary(now: now).replacements == 8)
        let closest = table.closest(to: ownID, count: 8, now: now)
        #expect(closest.count == 8)
        #expect(closest.first.map { ownID.commonPrefixLength(with: $0.id) } == 5)
        #expect(zip(closest, closest.dropFirst()).allSatisfy { ($0.id ^ ownID) < ($1.id ^ ownID) })
    }

    @Test func oneEntryPerAddressAndBoundedPerNetwork() {
        var table = RoutingTable(ownID: ownID, now: now)
        table.nodeResponded(contact(id(sharing: 0, index: 1), "1.2.3.4:1"), tier: .plain, roundTrip: nil, now: now)
        table.nodeResponded(contact(id(sharing: 1, index: 1), "1.2.3.4:1"), tier: .plain, roundTrip: nil, now: now)
        #expect(table.count == 1)
        #expect(table.entry(at: NodeAddress("1.2.3.4:1")!)?.id == id(sharing: 1, index: 1))
        for index in 2..<10 { table.nodeResponded(contact(id(sharing: 2, index: index), "1.2.3.\(index + 4):1"), tier: .plain, roundTrip: nil, now: now) }
        #expect(table.count == 3, "at most 3 per public /24")
        for index in 0..<10 { table.nodeResponded(contact(id(sharing: 3 + index, index: index), "192.168.0.\(index + 1):1"), tier: .plain, roundTrip: nil, now: now) }
        #expect(table.count == 13, "private addresses are not limited per network")
    }

    @Test func verifiedNodesDisplacePlainOnesAndInvalidNeverEnter() {
        var table = RoutingTable(ownID: ownID, now: now)
        // Fill bucket 0 and split the rest away so bucket 0 cannot split again.
        table.nodeResponded(contact(id(sharing: 1, index: 0), "10.1.0.1:1"), tier: .plain, roundTrip: nil, now: now)
        for index in 0..<8 { table.nodeResponded(contact(id(sharing: 0, index: index), "10.0.0.\(index + 1):1"), tier: .plain, roundTrip: nil, now: now) }
        table.nodeResponded(contact(id(sharing: 0, index: 99), "10.0.1.1:1"), tier: .plain, roundTrip: nil, now: now)
        #expect(table.entry(at: NodeAddress("10.0.1.1:1")!) == nil, "a plain node waits in the cache")
        let outcome = table.nodeResponded(contact(id(sharing: 0, index: 100), "10.0.1.2:1"), tier: .verified, roundTrip: nil, now: now)
        #expect(outcome == .inserted)
        #expect(table.entry(at: NodeAddress("10.0.1.2:1")!)?.tier == .verified)
        #expect(table.nodeResponded(contact(id(sharing: 0, index: 101), "10.0.1.3:1"), tier: .invalid, roundTrip: nil, now: now) == .rejected)
        #expect(table.entry(at: NodeAddress("10.0.1.3:1")!) == nil)
    }

    @Test func badNodesAreReplacedFromTheCache() {
        var table = RoutingTable(ownID: ownID, now: now)
        table.nodeResponded(contact(id(sharing: 1, index: 0), "10.1.0.1:1"), tier: .plain, roundTrip: nil, now: now)
        for index in 0..<8 { table.nodeResponded(contact(id(sharing: 0, index: index), "10.0.0.\(index + 1):1"), tier: .plain, roundTrip: nil, now: now) }
        let waiting = contact(id(sharing: 0, index: 50), "10.0.2.1:1")
        table.nodeResponded(waiting, tier: .plain, roundTrip: nil, now: now)
        #expect(!table.contains(waiting.address))
        let failing = NodeAddress("10.0.0.1:1")!
        for _ in 0..<3 { table.queryFailed(failing, now: now) }
        #expect(!table.contains(failing))
        #expect(table.contains(waiting.address))
    }

    @Test func statusFollowsBEP5Timers() {
        var entry = RoutingEntry(contact: contact(ownID, "10.0.0.1:1"), tier: .plain, lastResponse: now)
        let timings = RoutingTable.Timings()
        #expect(entry.status(now: now + .minutes(14), timings: timings) == .good)
        #expect(entry.status(now: now + .minutes(16), timings: timings) == .questionable)
        entry.lastQuery = now + .minutes(10)
        #expect(entry.status(now: now + .minutes(20), timings: timings) == .good)
        entry.failedQueries = 3
        #expect(entry.status(now: now, timings: timings) == .bad)
    }

    @Test func staleBucketsGetRefreshTargetsInsideThem() {
        var table = RoutingTable(ownID: ownID, now: now)
        for index in 0..<12 { table.nodeResponded(contact(id(sharing: index % 3, index: index), "10.0.0.\(index + 1):1"), tier: .plain, roundTrip: nil, now: now) }
        #expect(table.refreshTargets(now: now + .minutes(1)) { _ in .zero }.isEmpty)
        var random = SeededRandom(seed: 1)
        let targets = table.refreshTargets(now: now + .minutes(16)) { _ in NodeID.random(using: &random) }
        #expect(targets.count == table.bucketCount)
        for (index, target) in targets.enumerated() where index < table.bucketCount - 1 {
            #expect(ownID.commonPrefixLength(with: target) == index)
        }
    }
}

@Suite struct LookupTests {
    func contacts(_ count: Int) -> [NodeContact] {
        (0..<count).map { NodeContact(id: NodeID(high: UInt64($0 + 1), middle: 0, low: 0), address: NodeAddress(ip: .v4(0x0A00_0000 | UInt32($0 + 1)), port: 1)) }
    }

    @Test func slowNodesDoNotStallTheLookup() {
        var lookup = Lookup(target: .zero, k: 8, alpha: 3)
        lookup.offer(contacts(20), excluding: NodeID(high: .max, middle: 0, low: 0))
        let first = lookup.nextQueries()
        #expect(first.count == 3)
        #expect(lookup.nextQueries().isEmpty, "α = 3 in flight")
        lookup.slow(first[0])
        #expect(lookup.nextQueries().count == 1, "a slow query frees its slot")
        // Its late answer still counts.
        lookup.answered(first[0], id: NodeID(high: 1, middle: 0, low: 0), tier: .plain, token: nil)
        #expect(lookup.candidates[0].state == .answered)
    }

    @Test func terminatesWhenTheKClosestHaveAnswered() {
        var lookup = Lookup(target: .zero, k: 8, alpha: 3)
        let all = contacts(20)
        lookup.offer(all, excluding: NodeID(high: .max, middle: 0, low: 0))
        var rounds = 0
        while !lookup.isFinished, rounds < 50 {
            for address in lookup.nextQueries() {
                let contact = all.first { $0.address == address }!
                if contact.id.high == 2 { lookup.failed(address) } else { lookup.answered(address, id: contact.id, tier: .plain, token: nil) }
            }
            rounds += 1
        }
        #expect(lookup.isFinished)
        let answered = lookup.candidates.filter { $0.state == .answered }.map(\.contact.id.high)
        #expect(answered == [1, 3, 4, 5, 6, 7, 8, 9], "the 8 closest that did not fail, and no others")
    }

    @Test func verifiedNodesArePreferredInTheResultSet() {
        var lookup = Lookup(target: .zero, k: 2, alpha: 3)
        let all = contacts(4)
        lookup.offer(all, excluding: NodeID(high: .max, middle: 0, low: 0))
        for (index, contact) in all.enumerated() {
            _ = lookup.nextQueries()
            lookup.answered(contact.address, id: contact.id, tier: index == 2 ? .verified : .plain, token: nil)
        }
        #expect(lookup.preferredClosest().map(\.contact.id.high) == [3, 1])
    }
}
