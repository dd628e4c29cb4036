import Bencode
import Identity
import Testing
@testable import DHT

/// BEP 44 across a simulated network (1 % loss, 20–200 ms latency): an item
/// put by one node is got by others, and a mutable update wins over the old
/// version everywhere it is asked for.
@Suite struct BEP44SimulationTests {
    static let nodes = 300

    /// A network of `nodes` nodes that has settled.
    static func network() -> NetworkSimulator {
        var sim = NetworkSimulator()
        sim.addNode(bootstrap: [])
        for index in 1..<nodes {
            sim.run(for: .milliseconds(100))
            sim.addNode(bootstrap: (0..<3).map { _ in sim.address(of: sim.randomIndex(below: index)) })
        }
        sim.run(for: .seconds(120))
        return sim
    }

    /// Runs one traversal on `node` to its end; returns its items and summary.
    static func run(_ sim: inout NetworkSimulator, on node: Int,
                    _ start: (inout DHTCore, DHTInstant) -> DHTOperation) -> (items: [DHTItem], summary: TraversalSummary?) {
        sim.watch(node)
        let operation = sim.with(node, start)
        var items: [DHTItem] = []
        var summary: TraversalSummary?
        sim.run(for: .seconds(60)) { sim in
            for timed in sim.takeEvents(node) {
                switch timed.event {
                case .item(operation, let reply): items.append(reply.item)
                case .finished(operation, let done): summary = done
                default: break
                }
            }
            return summary != nil
        }
        return (items, summary)
    }

    @Test func anItemPutOnOneNodeIsGotFromOthers() throws {
        var sim = Self.network()
        let value = BValue.string("hello from node 7").encoded
        let immutable = DHTItem.immutable(value: value)
        let put = Self.run(&sim, on: 7) { core, now in core.putItem(immutable, family: .v4, now: now) }
        #expect((put.summary?.storedTo ?? 0) >= 6, "nodes that stored the item")

        var found = 0
        for reader in [20, 150, 299] {
            let got = Self.run(&sim, on: reader) { core, now in core.getItem(.immutable(target: immutable.target), family: .v4, now: now) }
            if got.items.first == immutable { found += 1 }
        }
        #expect(found == 3)

        // A mutable feed: version 1, then version 2; readers end on version 2.
        let key = Ed25519.SigningKey(seed: [UInt8](repeating: 42, count: 32))!
        let salt = Array("feed".utf8)
        let v1 = MutableItem(signing: BValue.dict(["ih": .bytes([UInt8](repeating: 1, count: 20))]).encoded, sequence: 1, salt: salt,
                             with: key)
        let v2 = MutableItem(signing: BValue.dict(["ih": .bytes([UInt8](repeating: 2, count: 20))]).encoded, sequence: 2, salt: salt,
                             with: key)
        let query = ItemQuery.mutable(publicKey: key.publicKey.bytes, salt: salt)
        #expect(((Self.run(&sim, on: 11) { core, now in core.putItem(.mutable(v1), family: .v4, now: now) }).summary?.storedTo ?? 0) >= 6)
        #expect(Self.run(&sim, on: 200) { core, now in core.getItem(query, family: .v4, now: now) }.items.last == .mutable(v1))
        #expect(((Self.run(&sim, on: 12) { core, now in core.putItem(.mutable(v2), family: .v4, now: now) }).summary?.storedTo ?? 0) >= 6)
        // A replay of v1 is refused everywhere v2 is stored.
        #expect(((Self.run(&sim, on: 13) { core, now in core.putItem(.mutable(v1), family: .v4, now: now) }).summary?.storedTo ?? 0) == 0)
        for reader in [201, 250] {
            #expect(Self.run(&sim, on: reader) { core, now in core.getItem(query, family: .v4, now: now) }.items.last == .mutable(v2))
        }
        // The same key with another salt is another, empty, feed.
        let other = ItemQuery.mutable(publicKey: key.publicKey.bytes, salt: Array("other".utf8))
        #expect(Self.run(&sim, on: 202) { core, now in core.getItem(other, family: .v4, now: now) }.items.isEmpty)
    }
}
