import Metainfo
import Identity
import Testing
@testable import DHT

@Suite struct CoreBehaviourTests {
    @Test func twoBitFountainNodesSeeEachOtherAsVerified() throws {
        var net = CoreHarness()
        let a = net.add("127.0.0.1:7001", seed: 1)
        let b = net.add("127.0.0.1:7002", seed: 2)
        let operation = net.with(a) { core, now in core.ping(b, now: now) }
        let pong = net.takeEvents(a).compactMap { event -> PingReply? in
            if case .pong(operation, let reply) = event { return reply }
            return nil
        }.first
        #expect(pong?.tier == .verified)
        #expect(pong?.id == net.cores[b]!.nodeID(for: .v4))
        #expect(pong?.version?.bytes == KRPCWriter.defaultVersion)
        // A enters B's table through B's ping back (B verifies A's answer).
        #expect(net.cores[a]!.routingTable(for: .v4)!.entry(at: b)?.tier == .verified)
        #expect(net.cores[b]!.routingTable(for: .v4)!.entry(at: a)?.tier == .verified)
    }

    @Test func forgedResponsesNeverEnterTheTable() throws {
        var net = CoreHarness()
        let a = net.add("127.0.0.1:7001", seed: 1)
        let forger = NodeAddress("127.0.0.1:7666")!
        let forgerKey = CoreHarness.key(9)
        let honestID = SignedNodeID.derive(publicKey: forgerKey.publicKey, externalIP: nil)

        for attempt in 0..<2 {
            net.with(a) { core, now in _ = core.ping(forger, now: now) }
            let query = try KRPCDecoder.decode(net.takeStray().last!.bytes)
            var writer = KRPCWriter()
            if attempt == 0 {
                // Signed with the forger's key but claiming an ID made from another key.
                writer.writeResponse(KRPCResponse(id: NodeID(high: 1, middle: 2, low: 3)), transactionID: query.transactionID,
                                     requester: a, signer: forgerKey)
            } else {
                // The right ID for the key, but the signature is corrupted.
                writer.writeResponse(KRPCResponse(id: honestID), transactionID: query.transactionID, requester: a, signer: forgerKey)
            }
            var packet = writer.buffer
            if attempt == 1 {
                let sig = packet.indices.first { packet[$0...].starts(with: Array("3:sig64:".utf8)) }! + 8
                packet[sig + 5] ^= 0xFF
            }
            net.inject(packet, from: forger, to: a)
        }
        #expect(net.cores[a]!.statistics.droppedInvalidSignature == 2)
        #expect(net.cores[a]!.routingTable(for: .v4)!.contains(forger) == false)
        // The pings time out: no pong was ever reported for the forged answers.
        net.advance(.seconds(10))
        let events = net.takeEvents(a)
        #expect(!events.contains { if case .pong = $0 { return true } else { return false } })
        #expect(events.filter { if case .requestFailed = $0 { return true } else { return false } }.count == 2)
    }

    @Test func announceNeedsAValidTokenAndIsThenServed() throws {
        var net = CoreHarness()
        let server = net.add("127.0.0.1:7001", seed: 1)
        let client = NodeAddress("127.0.0.1:7100")!
        let infoHash = NodeID(high: 42, middle: 0, low: 0)
        var writer = KRPCWriter()
        func ask(_ query: KRPCQuery) throws -> KRPCMessage {
            writer.writeQuery(query, transactionID: ShortBytes(uint32: 1), readOnly: true, signer: nil)
            net.inject(writer.buffer, from: client, to: server)
            let replies = net.takeStray().filter { $0.destination == client }
            #expect(replies.count == 1)
            #expect(replies[0].bytes.count <= 1_024)
            return try KRPCDecoder.decode(replies[0].bytes)
        }
        let clientID = NodeID(high: 7, middle: 7, low: 7)
        let bad = try ask(.announcePeer(id: clientID, infoHash: infoHash, port: 9_000, token: ShortBytes(Array("nope".utf8))!))
        guard case .error(let error) = bad.body else { Issue.record("bad token accepted"); return }
        #expect(error.code == 203)

        let peers = try ask(.getPeers(id: clientID, infoHash: infoHash, want: []))
        guard case .response(let first) = peers.body, let token = first.token else { Issue.record("no token"); return }
        #expect(first.values.isEmpty)
        let ok = try ask(.announcePeer(id: clientID, infoHash: infoHash, port: 9_000, token: token))
        guard case .response = ok.body else { Issue.record("announce refused"); return }
        _ = try ask(.announcePeer(id: clientID, infoHash: infoHash, port: nil, token: token))
        let again = try ask(.getPeers(id: clientID, infoHash: infoHash, want: []))
        guard case .response(let second) = again.body else { Issue.record("no response"); return }
        #expect(Set(second.values) == [NodeAddress("127.0.0.1:9000")!, NodeAddress("127.0.0.1:7100")!])

        // The token of one address is no good from another.
        writer.writeQuery(.announcePeer(id: clientID, infoHash: infoHash, port: 9_001, token: token), transactionID: ShortBytes(uint32: 2),
                          readOnly: true, signer: nil)
        net.inject(writer.buffer, from: NodeAddress("127.0.0.2:7100")!, to: server)
        let stolen = try KRPCDecoder.decode(net.takeStray().first!.bytes)
        guard case .error(let refusal) = stolen.body else { Issue.record("stolen token accepted"); return }
        #expect(refusal.code == 203)

        // Tokens outlive one rotation (5 min) but not two.
        net.advance(.minutes(6), step: .seconds(30))
        let stillValid = try ask(.announcePeer(id: clientID, infoHash: infoHash, port: 9_000, token: token))
        guard case .response = stillValid.body else { Issue.record("token expired too early"); return }
        net.advance(.minutes(6), step: .seconds(30))
        let expired = try ask(.announcePeer(id: clientID, infoHash: infoHash, port: 9_000, token: token))
        guard case .error = expired.body else { Issue.record("token lived too long"); return }
    }

    @Test func unknownMethodsAndMalformedQueriesGetErrors() throws {
        var net = CoreHarness()
        let server = net.add("127.0.0.1:7001", seed: 1)
        let client = NodeAddress("127.0.0.1:7100")!
        func reply(to text: String) throws -> KRPCMessage? {
            net.inject(Array(text.utf8), from: client, to: server)
            // The reply comes first; a ping to the (new) querier may follow.
            guard let datagram = net.takeStray().first else { return nil }
            #expect(datagram.bytes.count <= 1_024)
            return try KRPCDecoder.decode(datagram.bytes)
        }
        let withTarget = try reply(to: "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q7:new_one1:t2:aa1:y1:qe")
        guard case .response = withTarget?.body else { Issue.record("unknown query with target not answered like find_node"); return }
        let without = try reply(to: "d1:ad2:id20:abcdefghij0123456789e1:q7:new_one1:t2:ab1:y1:qe")
        guard case .error(let unknown) = without?.body else { Issue.record("no error for unknown method"); return }
        #expect(unknown.code == 204)
        for malformed in ["d1:ad2:id3:abce1:q4:ping1:t2:ac1:y1:qe",
                          "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token2:xxe1:q13:announce_peer1:t2:ad1:y1:qe",
                          "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token2:xxe1:q13:announce_peer1:t2:ae1:y1:qe"] {
            guard case .error(let error) = try reply(to: malformed)?.body else { Issue.record("no error for \(malformed)"); continue }
            #expect(error.code == 203)
        }
        // Garbage without a transaction ID: silently dropped.
        #expect(try reply(to: "this is not bencode") == nil)
        #expect(net.cores[server]!.statistics.droppedMalformed == 4)
    }

    @Test func repliesToUnprovenSourcesStaySmall() throws {
        var net = CoreHarness()
        let server = net.add("8.8.8.8:6881", seed: 1)
        // Fill the table and the peer store so that replies could be large.
        var core = net.cores[server]!
        for index in 0..<200 {
            let contact = NodeContact(id: NodeID(high: UInt64(index) << 56 | 0xABCDEF, middle: UInt64(index), low: 1),
                                      address: NodeAddress(ip: .v4(0x0A00_0000 | UInt32(index + 1)), port: 6881))
            _ = core.tables[.v4]!.nodeResponded(contact, tier: .plain, roundTrip: nil, now: net.now)
        }
        let infoHash = NodeID(high: 99, middle: 99, low: 99)
        for index in 0..<100 {
            core.peerStore.add(NodeAddress(ip: .v4(0x0B00_0000 | UInt32(index)), port: 1_000), for: infoHash, now: net.now)
        }
        net.cores[server] = core
        let spoofed = NodeAddress("9.9.9.9:1234")!
        var writer = KRPCWriter()
        let signer = CoreHarness.key(5)
        for (query, signed) in [(KRPCQuery.getPeers(id: .zero, infoHash: infoHash, want: [.v4, .v6]), false),
                                (.getPeers(id: .zero, infoHash: infoHash, want: []), true),
                                (.findNode(id: .zero, target: infoHash, want: [.v4]), true),
                                (.sampleInfohashes(id: .zero, target: infoHash, want: []), true)] {
            writer.writeQuery(query, transactionID: ShortBytes(uint32: 1), readOnly: true, signer: signed ? signer : nil)
            net.inject(writer.buffer, from: spoofed, to: server)
            let reply = net.takeStray().first!
            #expect(reply.bytes.count <= DHTConfiguration().unprovenReplyBudget, "\(query.methodName): \(reply.bytes.count) bytes")
            let message = try KRPCDecoder.decode(reply.bytes)
            #expect((message.authentication != nil) == signed, "replies are signed exactly when the query was")
            guard case .response(let response) = message.body else { Issue.record("\(query.methodName): not a response"); continue }
            if case .getPeers = query { #expect(response.values.count >= 20) }
        }
    }

    @Test func rateLimitingBoundsWhatOneAddressGets() {
        var net = CoreHarness()
        let server = net.add("8.8.8.8:6881", seed: 1)
        var writer = KRPCWriter()
        writer.writeQuery(.ping(id: .zero), transactionID: ShortBytes(uint32: 1), readOnly: true, signer: nil)
        for port in 0..<500 { net.inject(writer.buffer, from: NodeAddress(ip: .v4(0x0909_0909), port: UInt16(1_000 + port)), to: server) }
        let answered = net.takeStray().count
        #expect(answered >= 50 && answered <= 80, "answered \(answered) of 500")
        #expect(net.cores[server]!.statistics.droppedRateLimited == 500 - answered)
        // Another address is unaffected; loopback is exempt.
        net.inject(writer.buffer, from: NodeAddress("9.9.9.10:1")!, to: server)
        #expect(net.takeStray().count == 1)
    }

    @Test func randomAndMutatedDatagramsNeverCrash() {
        var net = CoreHarness()
        let server = net.add("127.0.0.1:7001", seed: 1)
        var random = SeededRandom(seed: 77)
        var writer = KRPCWriter()
        writer.writeQuery(.getPeers(id: .zero, infoHash: .zero, want: [.v4]), transactionID: ShortBytes(uint32: 1), readOnly: false,
                          signer: CoreHarness.key(3))
        let valid = writer.buffer
        for round in 0..<3_000 {
            var packet: [UInt8]
            if round % 2 == 0 {
                packet = random.bytes(Int(random.next() % 300))
            } else {
                packet = valid
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    packet[Int(random.next() % UInt64(packet.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            net.inject(packet, from: NodeAddress("127.0.0.1:9000")!, to: server)
        }
        net.inject([UInt8](repeating: UInt8(ascii: "d"), count: 5_000), from: NodeAddress("127.0.0.1:9000")!, to: server)
        #expect(net.cores[server]!.statistics.droppedOversized == 1)
        for datagram in net.takeStray() { #expect(datagram.bytes.count <= 1_024) }
    }

    @Test func bootstrapRetriesWithBackoffWhenNothingAnswers() {
        var net = CoreHarness()
        var configuration = DHTConfiguration()
        configuration.maintenanceInterval = .seconds(1)
        let node = net.add("127.0.0.1:7001", seed: 1, configuration: configuration)
        let silent = NodeAddress("127.0.0.1:7999")!
        net.with(node) { core, now in core.setBootstrapNodes([silent], now: now) }
        var attempts: [DHTInstant] = []
        for _ in 0..<200 {
            net.advance(.seconds(1))
            if net.takeStray().contains(where: { $0.destination == silent }) { attempts.append(net.now) }
        }
        #expect(attempts.count >= 4, "keeps trying: \(attempts)")
        let gaps = zip(attempts.dropFirst(), attempts).map { $0.since($1).seconds }
        #expect(gaps == gaps.sorted(), "waits longer each time: \(gaps)")
        #expect(gaps.last! > gaps.first! * 3)
        // Once something answers, the node joins.
        let helper = net.add("127.0.0.1:7999", seed: 2)
        _ = helper
        net.advance(.seconds(150))
        #expect(net.cores[node]!.routingTable(for: .v4)!.count == 1)
    }

    @Test func externalAddressVotesMakeTheIDBEP42Valid() throws {
        var net = CoreHarness()
        let node = net.add("192.168.1.2:6881", seed: 1)
        let before = net.cores[node]!.nodeID(for: .v4)
        let external = IPAddress("124.31.75.21")!
        // Five nodes on different networks answer our pings saying they see us at `external`.
        for voter in 0..<5 {
            let voterAddress = NodeAddress(ip: .v4(0x0500_0000 | UInt32(voter) << 8 | 1), port: 6881)
            net.with(node) { core, now in _ = core.ping(voterAddress, now: now) }
            let query = try KRPCDecoder.decode(net.takeStray().last!.bytes)
            var writer = KRPCWriter()
            writer.writeResponse(KRPCResponse(id: NodeID(high: UInt64(voter + 1), middle: 0, low: 0)), transactionID: query.transactionID,
                                 requester: NodeAddress(ip: external, port: 6881), signer: nil)
            net.inject(writer.buffer, from: voterAddress, to: node)
        }
        let after = net.cores[node]!.nodeID(for: .v4)
        #expect(after != before)
        #expect(BEP42.isValid(after, for: external))
        #expect(SignedNodeID.check(after, publicKey: CoreHarness.key(1).publicKey, source: external) == .ipBound)
        #expect(net.cores[node]!.externalAddress(for: .v4) == external)
        // The table was rebuilt around the new ID and kept its nodes.
        #expect(net.cores[node]!.routingTable(for: .v4)!.ownID == after)
        #expect(net.cores[node]!.routingTable(for: .v4)!.count == 5)
    }

    @Test func snapshotRestoresIdentityAndPingsSavedNodesFirst() throws {
        var net = CoreHarness()
        let a = net.add("127.0.0.1:7001", seed: 1)
        let b = net.add("127.0.0.1:7002", seed: 2)
        net.with(a) { core, now in _ = core.ping(b, now: now) }
        let snapshot = net.cores[a]!.snapshot()
        let decoded = try DHTStateSnapshot(decoding: snapshot.encoded())
        #expect(decoded == snapshot)
        #expect(decoded.nodes.map(\.contact.address) == [b])
        #expect(decoded.nodes.first?.tier == .verified)
        #expect(throws: DHTStateSnapshot.Failure.self) { try DHTStateSnapshot(decoding: Array("d6:format3:xyze".utf8)) }

        // A restarted A pings B before anything else and gets it back in its table.
        net.add("127.0.0.1:7001", seed: 1)
        let router = NodeAddress("127.0.0.1:7999")!
        net.with(a) { core, now in
            core.restore(decoded, now: now)
            core.setBootstrapNodes([router], now: now)
        }
        #expect(net.cores[a]!.routingTable(for: .v4)!.entry(at: b)?.tier == .verified)
        #expect(!net.takeStray().contains { $0.destination == router }, "saved nodes are asked first")
        // The table is still small, so the bootstrap list is used too, once the saved nodes had their turn.
        net.advance(.seconds(6))
        #expect(net.takeStray().contains { $0.destination == router })
    }
}
