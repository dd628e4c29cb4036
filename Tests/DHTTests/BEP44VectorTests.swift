import Bencode
import Identity
import Metainfo
import Testing
@testable import DHT

private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }
private func hex(_ text: String) -> [UInt8] { Hex.decode(text)! }

/// The test vectors printed in BEP 44 and BEP 46, and the KRPC forms of get and put.
@Suite struct BEP44VectorTests {
    static let publicKey = hex("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548")
    static let value = utf8("12:Hello World!")

    @Test func bep44MutableVector() {
        let payload = BEP44.signedPayload(salt: [], sequence: 1, value: Self.value)
        #expect(payload == utf8("3:seqi1e1:v12:Hello World!"))
        #expect(BEP44.mutableTarget(publicKey: Self.publicKey, salt: []).hex == "4a533d47ec9c7d95b1ad75f576cffc641853b750")
        let item = MutableItem(publicKey: Self.publicKey, salt: [], sequence: 1, value: Self.value,
                               signature: hex("305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff"
                                              + "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01"))
        #expect(item.hasValidSignature)
        // Any change to what is signed breaks it.
        var bumped = item
        bumped.sequence = 2
        #expect(!bumped.hasValidSignature)
        var salted = item
        salted.salt = utf8("foobar")
        #expect(!salted.hasValidSignature)
    }

    @Test func bep44MutableWithSaltVector() {
        let salt = utf8("foobar")
        #expect(BEP44.signedPayload(salt: salt, sequence: 1, value: Self.value) == utf8("4:salt6:foobar3:seqi1e1:v12:Hello World!"))
        #expect(BEP44.mutableTarget(publicKey: Self.publicKey, salt: salt).hex == "411eba73b6f087ca51a3795d9c8c938d365e32c1")
        let item = MutableItem(publicKey: Self.publicKey, salt: salt, sequence: 1, value: Self.value,
                               signature: hex("6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d"
                                              + "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08"))
        #expect(item.hasValidSignature)
        #expect(item.target.hex == "411eba73b6f087ca51a3795d9c8c938d365e32c1")
    }

    @Test func bep44ImmutableVector() {
        #expect(BEP44.immutableTarget(value: Self.value).hex == "e5f96f6f38320f0f33959cb4d3d656452117aadb")
        #expect(DHTItem.immutable(value: Self.value).target.hex == "e5f96f6f38320f0f33959cb4d3d656452117aadb")
    }

    @Test func bep46TargetVectors() {
        let key = hex("8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e")
        #expect(BEP44.mutableTarget(publicKey: key, salt: []).hex == "cc3f9d90b572172053626f9980ce261a850d050b")
        #expect(BEP44.mutableTarget(publicKey: key, salt: hex("6e")).hex == "59ee7c2cb9b4f7eb1986ee2d18fd2fdb8a56554f")
    }

    @Test func ourSignaturesVerifyAndAnEmptySaltIsNoSalt() {
        let key = Ed25519.SigningKey(seed: [UInt8](repeating: 5, count: 32))!
        let item = MutableItem(signing: Self.value, sequence: 7, with: key)
        #expect(item.hasValidSignature)
        #expect(item.target == BEP44.mutableTarget(publicKey: key.publicKey.bytes, salt: []))
        #expect(BEP44.signedPayload(salt: [], sequence: 7, value: Self.value)
            == BEP44.signedPayload(salt: utf8(""), sequence: 7, value: Self.value))
        // Negative and large sequence numbers are written as bencode integers.
        #expect(BEP44.signedPayload(salt: [], sequence: -3, value: utf8("i1e")) == utf8("3:seqi-3e1:vi1e"))
        #expect(BEP44.signedPayload(salt: [], sequence: Int64.max, value: utf8("0:"))
            == utf8("3:seqi9223372036854775807e1:v0:"))
    }

    @Test func putAndGetRoundTripThroughTheCodec() throws {
        let key = Ed25519.SigningKey(seed: [UInt8](repeating: 6, count: 32))!
        let value = BValue.dict(["ih": .bytes([UInt8](repeating: 0xAB, count: 20))]).encoded
        let item = MutableItem(signing: value, sequence: 3, salt: utf8("feed"), with: key)
        let id = NodeID(high: 1, middle: 2, low: 3)
        let token = ShortBytes(utf8("tok12345"))!
        var writer = KRPCWriter()
        writer.writeQuery(.put(id: id, request: PutRequest(token: token, item: .mutable(item), cas: 2)),
                          transactionID: ShortBytes(uint32: 9), readOnly: false, signer: nil)
        // Keys in canonical order, v verbatim.
        let text = String(decoding: writer.buffer, as: UTF8.self)
        #expect(text.contains("3:casi2e2:id20:"))
        #expect(text.contains("4:salt4:feed3:seqi3e3:sig64:"))
        let decoded = try KRPCDecoder.decode(writer.buffer)
        guard case .query(.put(id, let request)) = decoded.body else { Issue.record("not a put"); return }
        #expect(request.item == .mutable(item))
        #expect(request.cas == 2)
        #expect(request.token == token)

        writer.writeQuery(.get(id: id, target: item.target, sequence: 2, want: []), transactionID: ShortBytes(uint32: 10),
                          readOnly: false, signer: nil)
        guard case .query(.get(id, item.target, 2, [])) = try KRPCDecoder.decode(writer.buffer).body else {
            Issue.record("not a get"); return
        }

        var response = KRPCResponse(id: id)
        response.value = item.value
        response.itemKey = item.publicKey
        response.itemSequence = item.sequence
        response.itemSignature = item.signature
        response.token = token
        writer.writeResponse(response, transactionID: ShortBytes(uint32: 10), requester: nil, signer: nil)
        guard case .response(let back) = try KRPCDecoder.decode(writer.buffer).body else { Issue.record("not a response"); return }
        #expect(ItemQuery.mutable(publicKey: item.publicKey, salt: item.salt).item(in: back) == .mutable(item))
        // The same reply does not satisfy a query for another salt or an immutable target.
        #expect(ItemQuery.mutable(publicKey: item.publicKey, salt: []).item(in: back) == nil)
        #expect(ItemQuery.immutable(target: item.target).item(in: back) == nil)
    }

    @Test func mutablePutsMissingFieldsAreMalformed() {
        // k without sig and seq.
        let packet = utf8("d1:ad2:id20:abcdefghij01234567891:k32:abcdefghijabcdefghijabcdefghijab5:token2:xx1:vi1ee1:q3:put1:t2:aa1:y1:qe")
        #expect(throws: KRPCDecodeError.self) { try KRPCDecoder.decode(packet) }
        let noValue = utf8("d1:ad2:id20:abcdefghij01234567895:token2:xxe1:q3:put1:t2:aa1:y1:qe")
        #expect(throws: KRPCDecodeError.self) { try KRPCDecoder.decode(noValue) }
    }
}
