import Bencode
import Identity
import Testing
@testable import DHT

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
private let sampleID = NodeID(bytes: bytes("abcdefghij0123456789"))!
private let otherID = NodeID(bytes: bytes("mnopqrstuvwxyz123456"))!

@Suite struct KRPCDecodeTests {
    // The example messages of BEP 5, byte for byte.
    @Test func bep5Examples() throws {
        let ping = try KRPCDecoder.decode(bytes("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"))
        #expect(ping.transactionID.bytes == bytes("aa"))
        guard case .query(.ping(let id)) = ping.body else { Issue.record("not a ping"); return }
        #expect(id == sampleID)

        let findNode = try KRPCDecoder.decode(bytes("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe"))
        guard case .query(.findNode(sampleID, otherID, [])) = findNode.body else { Issue.record("bad find_node"); return }

        let getPeers = try KRPCDecoder.decode(bytes("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe"))
        guard case .query(.getPeers(sampleID, otherID, [])) = getPeers.body else { Issue.record("bad get_peers"); return }

        let announce = try KRPCDecoder.decode(bytes("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"))
        guard case .query(.announcePeer(sampleID, otherID, nil, let token)) = announce.body else { Issue.record("bad announce"); return }
        #expect(token.bytes == bytes("aoeusnth"))

        let values = try KRPCDecoder.decode(bytes("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"))
        guard case .response(let response) = values.body else { Issue.record("not a response"); return }
        #expect(response.id == sampleID)
        #expect(response.values.count == 2)
        #expect(response.values[0].compact == bytes("axje.u"))
        #expect(response.token?.bytes == bytes("aoeusnth"))

        let error = try KRPCDecoder.decode(bytes("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"))
        guard case .error(let failure) = error.body else { Issue.record("not an error"); return }
        #expect(failure.code == 201)
        #expect(failure.message == "A Generic Error Ocurred")
    }

    @Test func unknownKeysAreIgnoredAndUnknownMethodsKept() throws {
        let message = try KRPCDecoder.decode(bytes("d1:ad2:id20:abcdefghij01234567895:extrali1ei2ee6:target20:mnopqrstuvwxyz123456e3:foo3:bar1:q6:vote_x1:t2:aa1:y1:qe"))
        guard case .query(.unknown(let method, sampleID, otherID, [])) = message.body else { Issue.record("bad unknown"); return }
        #expect(method.bytes == bytes("vote_x"))
    }

    @Test func bep32And42And43Fields() throws {
        let query = try KRPCDecoder.decode(bytes("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee1:q9:find_node2:roi1e1:t2:aa1:y1:qe"))
        #expect(query.readOnly)
        guard case .query(.findNode(_, _, let want)) = query.body else { Issue.record("bad"); return }
        #expect(want == [.v4, .v6])
        let packet = bytes("d2:ip6:") + [0x7F, 0, 0, 1, 0x1A, 0xE1] + bytes("1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re")
        let response = try KRPCDecoder.decode(packet)
        #expect(response.requesterAddress == NodeAddress("127.0.0.1:6881"))
    }

    @Test func hostileInputIsRejectedNotCrashing() throws {
        let deep = String(repeating: "l", count: 1_000) + String(repeating: "e", count: 1_000)
        let cases: [String] = [
            "", "d", "de", "i1e", "d1:t2:aa1:y1:qe",                               // truncated / empty
            "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q",              // missing final e
            "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe",                              // ID of the wrong length
            "d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe",                                // wrong type
            "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe trailing",
            "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t99999:aa1:y1:qe",        // string past the end
            "d1:ad2:id20:abcdefghij01234567895:extra" + deep + "e1:q4:ping1:t2:aa1:y1:qe",
            "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token2:xxe1:q13:announce_peer1:t2:aa1:y1:qe",
            "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token2:xxe1:q13:announce_peer1:t2:aa1:y1:qe",
            "d1:ad2:id20:abcdefghij01234567899:info_hash3:abce1:q9:get_peers1:t2:aa1:y1:qe",
            "d1:t40:0123456789012345678901234567890123456789" + "1:y1:qe",
            "d1:ai99999999999999999999ee",
        ]
        for text in cases {
            #expect(throws: KRPCDecodeError.self, "\(text.prefix(60))") { try KRPCDecoder.decode(bytes(text)) }
        }
        #expect(throws: KRPCDecodeError.self) { try KRPCDecoder.decode([UInt8](repeating: UInt8(ascii: "l"), count: 2_000)) }
        // A malformed query still reveals its transaction ID so it can get error 203.
        let error = try #require(throws: KRPCDecodeError.self) {
            try KRPCDecoder.decode(bytes("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"))
        }
        #expect(error.transactionID?.bytes == bytes("aa"))
        #expect(error.isQuery)
    }
}

@Suite struct KRPCWriterTests {
    let signer = Ed25519Authenticator(key: Ed25519.SigningKey(seed: [UInt8](repeating: 3, count: 32))!)

    @Test func queriesRoundTripInCanonicalBencode() throws {
        let queries: [KRPCQuery] = [
            .ping(id: sampleID),
            .findNode(id: sampleID, target: otherID, want: [.v4, .v6]),
            .getPeers(id: sampleID, infoHash: otherID, want: []),
            .announcePeer(id: sampleID, infoHash: otherID, port: 6881, token: ShortBytes(bytes("tok"))!),
            .announcePeer(id: sampleID, infoHash: otherID, port: nil, token: ShortBytes(bytes("tok"))!),
            .sampleInfohashes(id: sampleID, target: otherID, want: []),
        ]
        var writer = KRPCWriter()
        for query in queries {
            for signed in [false, true] {
                writer.writeQuery(query, transactionID: ShortBytes(uint32: 0xDEAD_BEEF), readOnly: signed,
                                  signer: signed ? signer : nil)
                // The generic strict decoder accepts it with keys in order: canonical bencode.
                let tree = try BencodeDecoder(limits: BencodeLimits(requireSortedKeys: true)).decode(writer.buffer)
                #expect(tree.value.encoded == writer.buffer)
                let decoded = try KRPCDecoder.decode(writer.buffer)
                guard case .query(let back) = decoded.body else { Issue.record("not a query"); continue }
                #expect(back == query)
                #expect(decoded.readOnly == signed)
                #expect(decoded.transactionID.uint32 == 0xDEAD_BEEF)
                #expect(decoded.version?.bytes == KRPCWriter.defaultVersion)
                #expect((decoded.authentication != nil) == signed)
            }
        }
    }

    @Test func responsesRoundTrip() throws {
        var response = KRPCResponse(id: sampleID)
        response.nodes = (0..<8).map { NodeContact(id: NodeID(high: UInt64($0), middle: 1, low: 2), address: NodeAddress("10.0.0.\($0 + 1):\(6000 + $0)")!) }
        response.nodes6 = [NodeContact(id: otherID, address: NodeAddress("[2001:db8::1]:6881")!)]
        response.values = [NodeAddress("1.2.3.4:5")!, NodeAddress("[::1]:7")!]
        response.token = ShortBytes(bytes("12345678"))
        response.samples = [sampleID, otherID]
        response.interval = 300
        response.num = 2
        var writer = KRPCWriter()
        writer.writeResponse(response, transactionID: ShortBytes(bytes("xy"))!, requester: NodeAddress("8.8.8.8:53"),
                             signer: signer)
        _ = try BencodeDecoder(limits: BencodeLimits(requireSortedKeys: true)).decode(writer.buffer)
        let decoded = try KRPCDecoder.decode(writer.buffer)
        guard case .response(let back) = decoded.body else { Issue.record("not a response"); return }
        #expect(back == response)
        #expect(decoded.requesterAddress == NodeAddress("8.8.8.8:53"))
    }

    @Test func errorsRoundTrip() throws {
        var writer = KRPCWriter()
        writer.writeError(KRPCError(code: 203, message: "bad token"), transactionID: ShortBytes(bytes("t1"))!)
        let decoded = try KRPCDecoder.decode(writer.buffer)
        guard case .error(let error) = decoded.body else { Issue.record("not an error"); return }
        #expect(error == KRPCError(code: 203, message: "bad token"))
    }

    @Test func signaturesVerifyAndTamperingIsCaught() throws {
        var writer = KRPCWriter()
        let ownID = SignedNodeID.derive(publicKey: signer.publicKey, externalIP: nil)
        var response = KRPCResponse(id: ownID)
        response.nodes = [NodeContact(id: otherID, address: NodeAddress("10.0.0.1:1")!)]
        writer.writeResponse(response, transactionID: ShortBytes(uint32: 7), requester: nil, signer: signer)
        let packet = writer.buffer
        var verifier = KRPCVerifier()
        func tier(_ bytes: [UInt8], from source: String = "127.0.0.1", id: NodeID = ownID) throws -> TrustTier {
            let message = try KRPCDecoder.decode(bytes)
            return bytes.withUnsafeBytes { verifier.tier(of: message, senderID: id, packet: $0, source: IPAddress(source)!, using: signer) }
        }
        #expect(try tier(packet) == .verified)
        // A public address with the key-hash prefix: a valid key binding but not BEP 42.
        #expect(try tier(packet, from: "8.8.8.8") == .plain)
        // One flipped byte inside r (in the listed node's ID, so the packet still
        // parses): the signature no longer matches.
        var tampered = packet
        let nodes = try #require(packet.indices.first { packet[$0...].starts(with: bytes("5:nodes26:")) })
        tampered[nodes + 10 + 5] ^= 1
        let message = try KRPCDecoder.decode(tampered)
        guard case .response(let r) = message.body else { Issue.record("tampered packet is not a response"); return }
        #expect(r.nodes.first?.id != otherID, "the flip landed inside r")
        #expect(tampered.withUnsafeBytes { verifier.tier(of: message, senderID: r.id, packet: $0, source: IPAddress("127.0.0.1")!, using: signer) } == .invalid)
        // Signed by this key but claiming another ID: invalid.
        writer.writeResponse(KRPCResponse(id: otherID), transactionID: ShortBytes(uint32: 7), requester: nil, signer: signer)
        #expect(try tier(writer.buffer, id: otherID) == .invalid)
        // No k/sig: plain.
        writer.writeResponse(response, transactionID: ShortBytes(uint32: 7), requester: nil, signer: nil)
        #expect(try tier(writer.buffer) == .plain)
    }

    @Test func signedFindNodeReplyWithEightNodesFitsTheUnprovenBudget() {
        var writer = KRPCWriter()
        var response = KRPCResponse(id: sampleID)
        response.nodes = (0..<8).map { NodeContact(id: NodeID(high: UInt64($0), middle: 0, low: 0), address: NodeAddress("10.0.0.1:\($0 + 1)")!) }
        writer.writeResponse(response, transactionID: ShortBytes(uint32: 1), requester: NodeAddress("[2001:db8::1]:1"), signer: signer)
        #expect(writer.buffer.count <= DHTConfiguration().unprovenReplyBudget)
        print("signed find_node reply with 8 nodes: \(writer.buffer.count) bytes")
    }
}
