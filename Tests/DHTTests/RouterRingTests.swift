import Metainfo
import Identity
import Testing
@testable import DHT

/// The router's building blocks: SipHash, SYN cookies, the contact ring and
/// its index, the bounded tables.
@Suite struct RouterRingTests {
    // MARK: SipHash

    @Test func sipHashMatchesTheReferenceVectors() {
        // SipHash-2-4, key 00 01 … 0f (the reference implementation's vectors.h).
        let hasher = SipHash(key0: 0x0706_0504_0302_0100, key1: 0x0F0E_0D0C_0B0A_0908)
        #expect([UInt8]().withUnsafeBytes { hasher.hash($0) } == 0x726F_DB47_DD0E_0E31)
        let fifteen = (0..<15).map { UInt8($0) }
        #expect(fifteen.withUnsafeBytes { hasher.hash($0) } == 0xA129_CA61_49BE_45E5)
        // The word API is the byte API over little-endian words.
        let words: [UInt64] = [0x1122_3344_5566_7788, 0x99AA_BBCC_DDEE_FF00, 42]
        let bytes = words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> UInt64(8 * $0)) } }
        #expect(bytes.withUnsafeBytes { hasher.hash($0) } == hasher.hash(words[0], words[1], words[2]))
        #expect(bytes.prefix(8).withUnsafeBytes { hasher.hash(UnsafeRawBufferPointer($0)) } == hasher.hash(words[0], 0, 0, count: 1))
    }

    // MARK: Cookies

    @Test func cookiesAreBoundToAddressAndExpireAfterTwoRotations() {
        var cookies = AdmissionCookies(key0: 1, key1: 2, rotation: .seconds(120))
        let node = NodeAddress("203.0.113.7:6881")!
        let start = DHTInstant.seconds(1_000_000)
        let cookie = cookies.cookie(for: node, now: start)
        #expect(cookies.isValid(cookie, for: node, now: start))
        #expect(!cookies.isValid(cookie, for: NodeAddress("203.0.113.7:6882")!, now: start))
        #expect(!cookies.isValid(cookie, for: NodeAddress("203.0.113.8:6881")!, now: start))
        #expect(!cookies.isValid(cookie ^ 1, for: node, now: start))
        // Still good in the next epoch, gone in the one after.
        #expect(cookies.isValid(cookie, for: node, now: start + .seconds(130)))
        #expect(!cookies.isValid(cookie, for: node, now: start + .seconds(250)))
        // Another master key (another router) makes other cookies; the same key the same ones (all workers agree).
        var other = AdmissionCookies(key0: 1, key1: 3, rotation: .seconds(120))
        let otherCookie = other.cookie(for: node, now: start)
        #expect(otherCookie != cookie)
        let same = AdmissionCookies(key0: 1, key1: 2, rotation: .seconds(120))
        #expect(same.isValid(cookie, for: node, now: start))
        let v6 = NodeAddress("[2001:4860::1]:6881")!
        let v6Cookie = cookies.cookie(for: v6, now: start)
        #expect(cookies.isValid(v6Cookie, for: v6, now: start))
    }

    // MARK: Ring

    private func contact(_ index: Int, port: UInt16 = 6881) -> (NodeID, NodeAddress) {
        var random = SeededRandom(seed: UInt64(index))
        return (NodeID.random(using: &random), NodeAddress(ip: .v4(0x0500_0000 + UInt32(index)), port: port))
    }

    @Test func ringFillsThenReplacesTheOldest() {
        let memory = HeapRingMemory(family: .v4, entryCount: 4)
        var ring = ContactRing(memory: memory, hashKey: (1, 2))
        for index in 0..<4 {
            let (id, address) = contact(index)
            #expect(ring.admit(id: id, address: address, seen: 100 + UInt32(index)) == .added)
        }
        #expect(ring.count == 4)
        let (id, address) = contact(4)
        #expect(ring.admit(id: id, address: address, seen: 200) == .replaced)
        #expect(ring.count == 4)
        #expect(ring.lastSeen(contact(0).1) == nil, "the oldest contact made room")
        #expect(ring.lastSeen(address) == 200)
        #expect(ring.admit(id: contact(5).0, address: contact(5).1, seen: 201) == .replaced)
        #expect(ring.lastSeen(contact(1).1) == nil)
        for index in 2...5 { #expect(ring.lastSeen(contact(index).1) != nil) }
    }

    @Test func oneEntryPerPublicIPButPerPortOnLocalAddresses() {
        let memory = HeapRingMemory(family: .v4, entryCount: 16)
        var ring = ContactRing(memory: memory, hashKey: (1, 2))
        let (id, address) = contact(1)
        ring.admit(id: id, address: address, seen: 10)
        let moved = NodeAddress(ip: address.ip, port: 7000)
        #expect(ring.admit(id: contact(2).0, address: moved, seen: 11) == .refreshed)
        #expect(ring.count == 1)
        #expect(ring.contact(at: 0) == NodeContact(id: contact(2).0, address: moved))
        // On loopback, each port is its own node.
        ring.admit(id: contact(3).0, address: NodeAddress("127.0.0.1:1000")!, seen: 12)
        ring.admit(id: contact(4).0, address: NodeAddress("127.0.0.1:1001")!, seen: 12)
        #expect(ring.count == 3)
        // IPv6: one entry per /64.
        let memory6 = HeapRingMemory(family: .v6, entryCount: 16)
        var ring6 = ContactRing(memory: memory6, hashKey: (1, 2))
        ring6.admit(id: id, address: NodeAddress("[2001:4860:1:2::1]:6881")!, seen: 10)
        #expect(ring6.admit(id: id, address: NodeAddress("[2001:4860:1:2::99]:6881")!, seen: 11) == .refreshed)
        #expect(ring6.admit(id: id, address: NodeAddress("[2001:4860:1:3::1]:6881")!, seen: 11) == .added)
        #expect(ring6.count == 2)
    }

    @Test func copiedContactsAreCompactNodeInfos() {
        let memory = HeapRingMemory(family: .v4, entryCount: 10)
        var ring = ContactRing(memory: memory, hashKey: (1, 2))
        var expected: [NodeContact] = []
        for index in 0..<10 {
            let (id, address) = contact(index)
            ring.admit(id: id, address: address, seen: 5)
            expected.append(NodeContact(id: id, address: address))
        }
        var out = [UInt8](repeating: 0, count: 8 * 26)
        let copied = out.withUnsafeMutableBytes { ring.copyContacts(8, start: 7, into: $0.baseAddress!) }
        #expect(copied == 8)
        var compact: [UInt8] = []
        for offset in 0..<8 { expected[(7 + offset) % 10].appendCompact(to: &compact) }
        #expect(out == compact, "8 consecutive entries from position 7, wrapping")
    }

    @Test func indexStaysConsistentThroughManyReplacements() {
        let memory = HeapRingMemory(family: .v4, entryCount: 64)
        var ring = ContactRing(memory: memory, hashKey: (3, 4))
        var model: [NodeAddress] = []
        var random = SeededRandom(seed: 5)
        for step in 0..<5_000 {
            // Few distinct IPs, so refreshes and collisions are frequent.
            let address = NodeAddress(ip: .v4(0x0600_0000 + UInt32(random.next() % 300)), port: 6881)
            let result = ring.admit(id: NodeID.random(using: &random), address: address, seen: UInt32(step + 1))
            if let index = model.firstIndex(of: address) {
                #expect(result == .refreshed)
                _ = index
            } else {
                if model.count == 64 { model.removeFirst() }
                model.append(address)
            }
        }
        #expect(ring.count == 64)
        for address in model { #expect(ring.lastSeen(address) != nil) }
        let stored = Set((0..<ring.count).map { ring.contact(at: $0).address })
        #expect(stored == Set(model))
    }

    @Test func ringReloadsFromItsMemoryAndDropsTornEntries() {
        let memory = HeapRingMemory(family: .v4, entryCount: 32)
        var saved: UInt64 = 0
        do {
            var ring = ContactRing(memory: memory, hashKey: (1, 2), savedCount: &saved)
            for index in 0..<20 { ring.admit(id: contact(index).0, address: contact(index).1, seen: 50) }
        }
        #expect(saved == 20)
        // Tear entry 3 (as a crash in the middle of its write would).
        memory.entries.storeBytes(of: 0xFF, toByteOffset: 3 * 32 + 5, as: UInt8.self)
        let ring = ContactRing(memory: memory, hashKey: (9, 9), savedCount: &saved)
        #expect(ring.count == 19)
        #expect(saved == 19)
        #expect(ring.lastSeen(contact(3).1) == nil)
        for index in 0..<20 where index != 3 { #expect(ring.lastSeen(contact(index).1) == 50) }
    }

    @Test func deferredIndexingServesAtOnceAndAdmitsOnlyWhenDone() {
        let memory = HeapRingMemory(family: .v4, entryCount: 32)
        var saved: UInt64 = 0
        do {
            var ring = ContactRing(memory: memory, hashKey: (1, 2), savedCount: &saved)
            for index in 0..<20 { ring.admit(id: contact(index).0, address: contact(index).1, seen: 50 + UInt32(index)) }
        }
        memory.entries.storeBytes(of: 0xFF, toByteOffset: 4 * 32 + 7, as: UInt8.self)     // torn entry 4
        var ring = ContactRing(memory: memory, hashKey: (5, 6), savedCount: &saved, deferIndexing: true)
        #expect(ring.count == 20, "served before it is checked")
        #expect(ring.isIndexed == false)
        #expect(ring.admit(id: contact(30).0, address: contact(30).1, seen: 99) == nil, "no admission before indexing")
        var rounds = 0
        while !ring.continueIndexing(budget: 3) { rounds += 1 }
        #expect(rounds >= 5)
        #expect(ring.count == 19)
        #expect(saved == 19)
        #expect(ring.lastSeen(contact(4).1) == nil)
        for index in 0..<20 where index != 4 { #expect(ring.lastSeen(contact(index).1) == 50 + UInt32(index)) }
        let stored = Set((0..<ring.count).map { ring.contact(at: $0).address })
        #expect(stored.count == 19, "still packed, no holes")
        #expect(ring.admit(id: contact(30).0, address: contact(30).1, seen: 99) == .added)
    }

    // MARK: Bounded tables

    @Test func requesterTableIsFixedSizeAndRemembersRecentQueries() {
        var table = RequesterTable(slotCount: 1_024, recentWindow: .seconds(600), requeueInterval: .seconds(3_600), hashKey: (1, 2))
        let node = NodeAddress("8.8.4.4:6881")!
        #expect(table.note(node, seconds: 1_000) == .init(recent: false, pingDue: true))
        #expect(table.note(node, seconds: 1_100) == .init(recent: true, pingDue: false))
        #expect(table.note(node, seconds: 1_800) == .init(recent: false, pingDue: false), "10 minutes later it is no longer recent")
        #expect(table.note(node, seconds: 4_700) == .init(recent: false, pingDue: true), "an hour later it is pinged again")
        // 100,000 other requesters: the table does not grow, and a newcomer is still handled.
        for index in 0..<100_000 { _ = table.note(NodeAddress(ip: .v4(0x0900_0000 + UInt32(index)), port: 1), seconds: 5_000) }
        #expect(table.slotCount == 1_024)
        #expect(table.note(NodeAddress("9.9.9.9:1")!, seconds: 5_001).pingDue)
    }

    @Test func admissionQueueIsBoundedAndReleasesInOrder() {
        var queue = AdmissionQueue(capacity: 3)
        for index in 0..<3 { #expect(queue.push(contact(index).1, due: .seconds(Double(10 + index))) == true) }
        #expect(queue.push(contact(9).1, due: .seconds(20)) == false, "full: turned away")
        #expect(queue.popDue(now: .seconds(9)) == nil)
        #expect(queue.popDue(now: .seconds(11)) == contact(0).1)
        #expect(queue.popDue(now: .seconds(11)) == contact(1).1)
        #expect(queue.popDue(now: .seconds(11)) == nil)
        #expect(queue.push(contact(5).1, due: .seconds(30)) == true)
        #expect(queue.popDue(now: .seconds(40)) == contact(2).1)
        #expect(queue.popDue(now: .seconds(40)) == contact(5).1)
        #expect(queue.count == 0)
    }

    @Test func bogonFilter() {
        for text in ["10.1.2.3", "192.168.1.1", "172.20.0.1", "127.0.0.1", "100.64.1.1", "169.254.1.1", "192.0.2.1",
                     "198.18.0.1", "198.51.100.1", "203.0.113.9", "::1", "fe80::1", "fd00::1", "2001:db8::1", "::"] {
            #expect(RouterAddressFilter.isBogon(IPAddress(text)!), "\(text)")
        }
        for text in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "2001:4860::8888", "2a00:1450::1"] {
            #expect(!RouterAddressFilter.isBogon(IPAddress(text)!), "\(text)")
        }
        #expect(RouterAddressFilter.classify(NodeAddress(ip: IPAddress("8.8.8.8")!, port: 0), allowPrivate: true) == .unroutable)
        #expect(RouterAddressFilter.classify(NodeAddress("224.0.0.1:6881")!, allowPrivate: true) == .unroutable)
        #expect(RouterAddressFilter.classify(NodeAddress("127.0.0.1:6881")!, allowPrivate: true) == .serve)
        #expect(RouterAddressFilter.classify(NodeAddress("127.0.0.1:6881")!, allowPrivate: false) == .bogon)
    }
}
