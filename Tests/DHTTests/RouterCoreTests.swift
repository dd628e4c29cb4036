import Metainfo
import Identity
import Testing
@testable import DHT

/// The router core, driven by hand: queries in, replies and admission pings out.
@Suite struct RouterCoreTests {
    static let start = DHTInstant.seconds(1_800_000_000)

    static func makeCore(capacity: Int = 100, allowPrivate: Bool = false,
                         configure: (inout RouterConfiguration) -> Void = { _ in }) -> RouterCore {
        var configuration = RouterConfiguration()
        configuration.capacity = capacity
        configuration.admitDelay = .seconds(60)
        configuration.allowPrivate = allowPrivate
        configuration.requesterSlots = 4_096
        configuration.admissionQueueCapacity = 64
        configure(&configuration)
        let ring4 = ContactRing(memory: HeapRingMemory(family: .v4, entryCount: capacity), hashKey: (1, 2))
        let ring6 = ContactRing(memory: HeapRingMemory(family: .v6, entryCount: capacity), hashKey: (3, 4))
        return RouterCore(configuration: configuration, nodeID: NodeID(hex: String(repeating: "ab", count: 20))!,
                          ring4: ring4, ring6: ring6, secret: (11, 12), seed: 13)
    }

    /// A node ID that passes BEP 42 for `ip`.
    static func validID(for ip: IPAddress, seed: UInt64) -> NodeID {
        var random = SeededRandom(seed: seed)
        var id = NodeID.random(using: &random)
        let r = UInt8(truncatingIfNeeded: random.next()) & 7
        id.high = UInt64(BEP42.prefix(for: ip, r: r)) << 32 | id.high & 0x0000_07FF_FFFF_FFFF
        id.low = id.low & ~0xFF | UInt32(r)
        return id
    }

    static func query(_ query: KRPCQuery, t: UInt32 = 1, readOnly: Bool = false) -> [UInt8] {
        var writer = KRPCWriter()
        writer.writeQuery(query, transactionID: ShortBytes(uint32: t), readOnly: readOnly, signer: nil)
        return writer.buffer
    }

    static func pong(id: NodeID, transactionID: ShortBytes) -> [UInt8] {
        var writer = KRPCWriter()
        writer.writeResponse(KRPCResponse(id: id), transactionID: transactionID, requester: nil, signer: nil)
        return writer.buffer
    }

    /// Feeds one packet; returns the decoded reply, if any.
    static func send(_ core: inout RouterCore, _ packet: [UInt8], from source: NodeAddress, at now: DHTInstant) -> KRPCMessage? {
        var out = [UInt8](repeating: 0, count: 1_500)
        let length = packet.withUnsafeBytes { packet in
            out.withUnsafeMutableBytes { core.receive(packet, from: source, now: now, reply: $0) }
        }
        guard length > 0 else { return nil }
        return try? KRPCDecoder.decode(Array(out[0..<length]))
    }

    static func duePings(_ core: inout RouterCore, at now: DHTInstant) -> [(NodeAddress, KRPCMessage)] {
        var pings: [(NodeAddress, KRPCMessage)] = []
        var out = [UInt8](repeating: 0, count: 1_500)
        while let (address, length) = out.withUnsafeMutableBytes({ core.nextDuePing(now: now, into: $0) }) {
            pings.append((address, try! KRPCDecoder.decode(Array(out[0..<length]))))
        }
        return pings
    }

    /// Takes `address` through query → delayed ping → pong; returns whether it was admitted.
    @discardableResult
    static func admit(_ core: inout RouterCore, _ address: NodeAddress, seed: UInt64, at now: DHTInstant) -> Bool {
        let id = validID(for: address.ip, seed: seed)
        _ = send(&core, query(.findNode(id: id, target: id, want: [])), from: address, at: now)
        let later = now + .seconds(61)
        guard let (to, ping) = duePings(&core, at: later).first(where: { $0.0 == address }) else { return false }
        let before = core.ring4.count + core.ring6.count
        _ = send(&core, pong(id: id, transactionID: ping.transactionID), from: to, at: later + .seconds(0.1))
        return core.ring4.count + core.ring6.count > before
    }

    @Test func firstQueryIsAnsweredAndThePingComesAfterTheDelay() throws {
        var core = Self.makeCore()
        let node = NodeAddress("8.8.8.8:6881")!
        let id = Self.validID(for: node.ip, seed: 1)
        let reply = try #require(Self.send(&core, Self.query(.findNode(id: id, target: id, want: []), t: 77), from: node, at: Self.start))
        #expect(reply.transactionID == ShortBytes(uint32: 77))
        #expect(reply.requesterAddress == node, "BEP 42 ip field")
        guard case .response(let response) = reply.body else { Issue.record("not a response"); return }
        #expect(response.id == core.nodeID)
        #expect(response.nodes.isEmpty)
        #expect(Self.duePings(&core, at: Self.start + .seconds(59)).isEmpty, "not before --admit-delay")
        let pings = Self.duePings(&core, at: Self.start + .seconds(61))
        #expect(pings.count == 1)
        let (address, ping) = try #require(pings.first)
        #expect(address == node)
        #expect(ping.transactionID.count == 8, "the SYN cookie")
        guard case .query(.ping(let routerID)) = ping.body else { Issue.record("not a ping"); return }
        #expect(routerID == core.nodeID)
        // The pong admits it; the next requester gets it back.
        _ = Self.send(&core, Self.pong(id: id, transactionID: ping.transactionID), from: node, at: Self.start + .seconds(62))
        #expect(core.ring4.count == 1)
        #expect(core.counters.contactsAdded == 1)
        let other = NodeAddress("9.9.9.9:1234")!
        let second = try #require(Self.send(&core, Self.query(.getPeers(id: id, infoHash: id, want: [])), from: other,
                                            at: Self.start + .seconds(63)))
        guard case .response(let nodes) = second.body else { Issue.record("not a response"); return }
        #expect(nodes.nodes == [NodeContact(id: id, address: node)])
        #expect(nodes.token == nil, "a router hands out no tokens")
    }

    @Test func forgedLateOrMisaddressedPongsAdmitNobody() throws {
        var core = Self.makeCore()
        let node = NodeAddress("8.8.8.8:6881")!
        let id = Self.validID(for: node.ip, seed: 2)
        _ = Self.send(&core, Self.query(.ping(id: id)), from: node, at: Self.start)
        let (_, ping) = try #require(Self.duePings(&core, at: Self.start + .seconds(61)).first)
        // Wrong transaction ID, right address.
        _ = Self.send(&core, Self.pong(id: id, transactionID: ShortBytes(uint32: 5)), from: node, at: Self.start + .seconds(62))
        // Right cookie, another port or IP.
        _ = Self.send(&core, Self.pong(id: id, transactionID: ping.transactionID), from: NodeAddress("8.8.8.8:6882")!,
                      at: Self.start + .seconds(62))
        _ = Self.send(&core, Self.pong(id: Self.validID(for: .v4(0x0808_0809), seed: 2), transactionID: ping.transactionID),
                      from: NodeAddress("8.8.8.9:6881")!, at: Self.start + .seconds(62))
        // Right cookie, too late (two rotations of 2 minutes).
        _ = Self.send(&core, Self.pong(id: id, transactionID: ping.transactionID), from: node, at: Self.start + .seconds(61 + 300))
        #expect(core.ring4.count == 0)
        #expect(core.counters.droppedBadCookie == 4)
        // Right cookie in time but an ID that fails BEP 42 for this IP.
        let wrongID = Self.validID(for: .v4(0x0101_0101), seed: 3)
        _ = Self.send(&core, Self.pong(id: wrongID, transactionID: ping.transactionID), from: node, at: Self.start + .seconds(62))
        #expect(core.ring4.count == 0)
        #expect(core.counters.rejectedContacts == 1)
    }

    @Test func nodesWhoseIDsFailBEP42OrAreReadOnlyAreServedButNotPinged() throws {
        var core = Self.makeCore()
        let node = NodeAddress("8.8.8.8:6881")!
        let bad = Self.validID(for: .v4(0x0101_0101), seed: 4)
        #expect(Self.send(&core, Self.query(.findNode(id: bad, target: bad, want: [])), from: node, at: Self.start) != nil)
        let readOnly = NodeAddress("8.8.4.4:6881")!
        let id = Self.validID(for: readOnly.ip, seed: 5)
        #expect(Self.send(&core, Self.query(.ping(id: id), readOnly: true), from: readOnly, at: Self.start) != nil)
        #expect(Self.duePings(&core, at: Self.start + .seconds(61)).isEmpty)
    }

    @Test func repliesCarryEightNodesAndThreeToARecentRequester() throws {
        var core = Self.makeCore(allowPrivate: true)
        for index in 0..<12 { Self.admit(&core, NodeAddress(ip: .v4(0x0800_0000 + UInt32(index)), port: 6881), seed: UInt64(index), at: Self.start) }
        #expect(Self.admit(&core, NodeAddress("[2001:4860::1]:6881")!, seed: 50, at: Self.start))
        #expect(core.ring4.count == 12)
        #expect(core.ring6.count == 1)
        let asker = NodeAddress("9.9.9.9:1")!
        let id = Self.validID(for: asker.ip, seed: 99)
        let at = Self.start + .seconds(100)
        func nodes(_ reply: KRPCMessage?) -> [NodeContact] {
            if case .response(let response)? = reply?.body { return response.nodes }
            return []
        }
        #expect(nodes(Self.send(&core, Self.query(.findNode(id: id, target: id, want: [])), from: asker, at: at)).count == 8)
        #expect(nodes(Self.send(&core, Self.query(.findNode(id: id, target: id, want: [])), from: asker, at: at + .seconds(60))).count == 3)
        #expect(nodes(Self.send(&core, Self.query(.findNode(id: id, target: id, want: [])), from: asker, at: at + .seconds(800))).count == 8,
                "more than 10 minutes since its last query")
        // BEP 32: an IPv4 requester that wants n6 too gets both lists.
        let both = Self.send(&core, Self.query(.findNode(id: id, target: id, want: [.v4, .v6])), from: NodeAddress("9.9.9.10:1")!, at: at)
        guard case .response(let response)? = both?.body else { Issue.record("no reply"); return }
        #expect(response.nodes.count == 8)
        #expect(response.nodes6 == [NodeContact(id: Self.validID(for: IPAddress("2001:4860::1")!, seed: 50),
                                                address: NodeAddress("[2001:4860::1]:6881")!)])
    }

    @Test func announcesUnknownMethodsAndMalformedQueriesGetErrors() throws {
        var core = Self.makeCore()
        let node = NodeAddress("8.8.8.8:6881")!
        let id = Self.validID(for: node.ip, seed: 6)
        let announce = Self.send(&core, Self.query(.announcePeer(id: id, infoHash: id, port: 1, token: ShortBytes([1, 2])!)),
                                 from: node, at: Self.start)
        guard case .error(let error)? = announce?.body else { Issue.record("announce_peer not refused"); return }
        #expect(error.code == 203)
        let unknown = Array("d1:ad2:id20:\(String(repeating: "x", count: 20))e1:q5:hello1:t2:aa1:y1:qe".utf8)
        guard case .error(let unknownError)? = Self.send(&core, unknown, from: node, at: Self.start)?.body else {
            Issue.record("unknown method not refused"); return
        }
        #expect(unknownError.code == 204)
        // A query missing its id: error 203 with its transaction ID.
        let malformed = Array("d1:ad6:target20:\(String(repeating: "x", count: 20))e1:q9:find_node1:t2:zz1:y1:qe".utf8)
        let reply = Self.send(&core, malformed, from: node, at: Self.start)
        guard case .error(let malformedError)? = reply?.body else { Issue.record("malformed query not refused"); return }
        #expect(malformedError.code == 203)
        #expect(reply?.transactionID == ShortBytes(Array("zz".utf8)))
        // Garbage: dropped silently.
        for garbage in [[UInt8](), Array("d1:t".utf8), [UInt8](repeating: 0x64, count: 900), Array("i42e".utf8)] {
            #expect(Self.send(&core, garbage, from: node, at: Self.start) == nil)
        }
        #expect(core.counters.droppedMalformed == 5)
    }

    @Test func bogonsAreDroppedUnlessAllowedAndEachIPIsRateLimited() throws {
        var core = Self.makeCore { $0.rateLimitPerSecond = 10; $0.rateLimitBurst = 20 }
        let id = Self.validID(for: .v4(0x0808_0808), seed: 7)
        let ping = Self.query(.ping(id: id))
        #expect(Self.send(&core, ping, from: NodeAddress("192.168.1.2:6881")!, at: Self.start) == nil)
        #expect(core.counters.droppedBogon == 1)
        var open = Self.makeCore(allowPrivate: true)
        #expect(Self.send(&open, ping, from: NodeAddress("192.168.1.2:6881")!, at: Self.start) != nil)

        // One IP floods: the burst passes, the rest is dropped; another IP is still served.
        let flooder = NodeAddress("8.8.8.8:6881")!
        var answered = 0
        for _ in 0..<100 where Self.send(&core, ping, from: flooder, at: Self.start) != nil { answered += 1 }
        #expect(answered == 20)
        #expect(core.counters.droppedRateLimited == 80)
        #expect(Self.send(&core, ping, from: NodeAddress("8.8.4.4:6881")!, at: Self.start) != nil)
        // A second later it has ten packets again.
        answered = 0
        for _ in 0..<100 where Self.send(&core, ping, from: flooder, at: Self.start + .seconds(1)) != nil { answered += 1 }
        #expect(answered == 10)
    }

    @Test func eachWorkerGetsItsShareOfTheContactsAndEveryTable() {
        let whole = RouterConfiguration()
        let share = whole.share(workers: 4)
        #expect(share.capacity == whole.capacity / 4)
        #expect(share.rateLimiterSlots == whole.rateLimiterSlots / 4)
        #expect(share.requesterSlots == whole.requesterSlots / 4)
        #expect(share.admissionQueueCapacity == whole.admissionQueueCapacity / 4)
    }
}


/// Two cores as two workers: contacts live in the ring of their home shard,
/// whichever worker proved them.
@Suite struct RouterShardTests {
    @Test func provenContactsGoToTheirHomeWorker() throws {
        let key: (UInt64, UInt64) = (5, 6)
        func core(_ index: Int) -> RouterCore {
            var configuration = RouterConfiguration()
            configuration.capacity = 50
            configuration.admitDelay = .seconds(60)
            configuration.requesterSlots = 4_096
            configuration.admissionQueueCapacity = 64
            return RouterCore(configuration: configuration, nodeID: NodeID(hex: String(repeating: "cd", count: 20))!,
                              ring4: ContactRing(memory: HeapRingMemory(family: .v4, entryCount: 50), hashKey: (1, 2)),
                              ring6: ContactRing(memory: HeapRingMemory(family: .v6, entryCount: 50), hashKey: (3, 4)),
                              secret: (11, 12), seed: UInt64(index), shard: RouterShard(index: index, count: 2, key: key))
        }
        var first = core(0)
        var second = core(1)
        let shard = RouterShard(index: 0, count: 2, key: key)
        var homes = [0, 0]
        // Every contact is proven by the first worker.
        for index in 0..<40 {
            let address = NodeAddress(ip: .v4(0x0800_0000 + UInt32(index)), port: 6881)
            homes[shard.home(of: address)] += 1
            #expect(RouterCoreTests.admit(&first, address, seed: UInt64(index), at: RouterCoreTests.start) || shard.home(of: address) == 1)
        }
        #expect(homes[0] > 5 && homes[1] > 5, "the hash spreads contacts: \(homes)")
        #expect(first.ring4.count == homes[0])
        let forwarded = first.takeForwardedContacts()
        #expect(forwarded.count == homes[1])
        second.admitForwardedContacts(forwarded)
        #expect(second.ring4.count == homes[1])
        #expect(second.counters.contactsAdded == homes[1])
        // A worker refuses contacts that are not at home with it.
        first.admitForwardedContacts(forwarded)
        #expect(first.ring4.count == homes[0])
    }
}
