import Bencode
import Identity
import Metainfo
import Testing
@testable import DHT

private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A storing node's side of BEP 44: what it accepts, what it refuses (with
/// which code), and that a refused put leaves nothing behind.
@Suite struct BEP44CoreTests {
    /// One storing node and a stock client talking to it over raw KRPC.
    struct Storage {
        var net = CoreHarness()
        let server: NodeAddress
        let client = NodeAddress("127.0.0.1:7100")!
        let clientID = NodeID(high: 7, middle: 7, low: 7)
        var writer = KRPCWriter()
        var transaction: UInt32 = 1

        init(configuration: DHTConfiguration = DHTConfiguration()) {
            server = net.add("127.0.0.1:7001", seed: 1, configuration: configuration)
        }

        mutating func ask(_ query: KRPCQuery) throws -> KRPCMessage.Body {
            transaction += 1
            writer.writeQuery(query, transactionID: ShortBytes(uint32: transaction), readOnly: true, signer: nil)
            net.inject(writer.buffer, from: client, to: server)
            let replies = net.takeStray().filter { $0.destination == client }
            #expect(replies.count == 1)
            guard let first = replies.first else { throw Failure() }
            return try KRPCDecoder.decode(first.bytes).body
        }

        mutating func token(for target: NodeID) throws -> ShortBytes {
            guard case .response(let reply) = try ask(.get(id: clientID, target: target, sequence: nil, want: [])),
                  let token = reply.token else { throw Failure() }
            return token
        }

        /// The error code a put gets, nil when it is accepted.
        mutating func put(_ request: PutRequest) throws -> Int64? {
            switch try ask(.put(id: clientID, request: request)) {
            case .response: return nil
            case .error(let error): return error.code
            case .query: throw Failure()
            }
        }

        mutating func put(_ item: DHTItem, cas: Int64? = nil) throws -> Int64? {
            try put(PutRequest(token: try token(for: item.target), item: item, cas: cas))
        }

        mutating func get(_ target: NodeID, sequence: Int64? = nil) throws -> KRPCResponse {
            guard case .response(let reply) = try ask(.get(id: clientID, target: target, sequence: sequence, want: [])) else {
                throw Failure()
            }
            return reply
        }

        var stored: Int { net.cores[server]!.storedItems }

        struct Failure: Error {}
    }

    static let key = Ed25519.SigningKey(seed: [UInt8](repeating: 3, count: 32))!
    static let otherKey = Ed25519.SigningKey(seed: [UInt8](repeating: 4, count: 32))!
    static func feed(_ byte: UInt8) -> [UInt8] { BValue.dict(["ih": .bytes([UInt8](repeating: byte, count: 20))]).encoded }

    @Test func immutableItemsAreStoredUnderTheirHashAndServed() throws {
        var storage = Storage()
        let value = utf8("12:Hello World!")
        #expect(try storage.put(.immutable(value: value)) == nil)
        let reply = try storage.get(BEP44.immutableTarget(value: value))
        #expect(reply.value == value)
        #expect(reply.itemKey == nil && reply.itemSignature == nil)
        #expect(reply.token != nil)
        // A target nobody stored: nodes and a token, no value.
        let empty = try storage.get(NodeID(high: 9, middle: 9, low: 9))
        #expect(empty.value == nil)
        #expect(empty.token != nil)
    }

    @Test func mutableItemsFollowTheirSequenceNumbers() throws {
        var storage = Storage()
        let v1 = MutableItem(signing: Self.feed(1), sequence: 1, salt: utf8("s"), with: Self.key)
        let v2 = MutableItem(signing: Self.feed(2), sequence: 2, salt: utf8("s"), with: Self.key)
        #expect(try storage.put(.mutable(v1)) == nil)
        #expect(try storage.put(.mutable(v2)) == nil)
        let reply = try storage.get(v2.target)
        #expect(reply.value == v2.value && reply.itemSequence == 2 && reply.itemKey == v2.publicKey
            && reply.itemSignature == v2.signature)
        // A replay of the older version is refused (302) and changes nothing.
        #expect(try storage.put(.mutable(v1)) == KRPCError.sequenceTooLow)
        // So is another value under the same seq.
        let rival = MutableItem(signing: Self.feed(9), sequence: 2, salt: utf8("s"), with: Self.key)
        #expect(try storage.put(.mutable(rival)) == KRPCError.sequenceTooLow)
        // The same item again just refreshes it.
        #expect(try storage.put(.mutable(v2)) == nil)
        #expect(try storage.get(v2.target).value == v2.value)
        // `seq` in a get: the value only when the stored one is newer.
        let notNewer = try storage.get(v2.target, sequence: 2)
        #expect(notNewer.itemSequence == 2 && notNewer.value == nil && notNewer.itemSignature == nil)
        #expect(try storage.get(v2.target, sequence: 1).value == v2.value)
        #expect(storage.stored == 1)
    }

    @Test func casMustNameTheStoredSequenceNumber() throws {
        var storage = Storage()
        let v1 = MutableItem(signing: Self.feed(1), sequence: 1, with: Self.key)
        let v2 = MutableItem(signing: Self.feed(2), sequence: 2, with: Self.key)
        let v3 = MutableItem(signing: Self.feed(3), sequence: 3, with: Self.key)
        // No current value: cas is ignored.
        #expect(try storage.put(.mutable(v1), cas: 5) == nil)
        #expect(try storage.put(.mutable(v2), cas: 0) == KRPCError.casMismatch)
        #expect(try storage.get(v1.target).itemSequence == 1)
        #expect(try storage.put(.mutable(v2), cas: 1) == nil)
        #expect(try storage.put(.mutable(v3)) == nil)
        #expect(try storage.get(v1.target).itemSequence == 3)
    }

    @Test func forgedWrongKeyOversizedAndTokenlessPutsAreRefusedAndNotStored() throws {
        var storage = Storage()
        let good = MutableItem(signing: Self.feed(1), sequence: 1, salt: utf8("x"), with: Self.key)
        // Forged: the signature of another value.
        var forged = good
        forged.value = Self.feed(2)
        #expect(try storage.put(.mutable(forged)) == KRPCError.invalidSignature)
        // Wrong key: signed by another key but claiming the publisher's.
        var wrongKey = MutableItem(signing: Self.feed(1), sequence: 1, salt: utf8("x"), with: Self.otherKey)
        wrongKey.publicKey = good.publicKey
        #expect(try storage.put(.mutable(wrongKey)) == KRPCError.invalidSignature)
        // A key of the wrong length.
        var shortKey = good
        shortKey.publicKey = Array(good.publicKey.prefix(31))
        #expect(try storage.put(.mutable(shortKey)) == KRPCError.invalidSignature)
        // Oversized value (1,001 bytes bencoded) and salt (65 bytes), even when properly signed.
        let big = BValue.bytes([UInt8](repeating: 1, count: 997)).encoded
        #expect(big.count == 1_001)
        #expect(try storage.put(.immutable(value: big)) == KRPCError.valueTooBig)
        #expect(try storage.put(.mutable(MutableItem(signing: big, sequence: 1, with: Self.key))) == KRPCError.valueTooBig)
        let longSalt = [UInt8](repeating: 7, count: 65)
        #expect(try storage.put(.mutable(MutableItem(signing: Self.feed(1), sequence: 1, salt: longSalt, with: Self.key)))
            == KRPCError.saltTooBig)
        // Exactly at the limits is fine.
        let fits = BValue.bytes([UInt8](repeating: 1, count: 996)).encoded
        #expect(fits.count == 1_000)
        #expect(try storage.put(.immutable(value: fits)) == nil)
        #expect(try storage.put(.mutable(MutableItem(signing: Self.feed(1), sequence: 1, salt: Array(longSalt.prefix(64)),
                                                      with: Self.key))) == nil)
        // No valid token.
        #expect(try storage.put(PutRequest(token: ShortBytes(utf8("nope"))!, item: .mutable(good))) == KRPCError.protocolError)
        // A value that is not strict bencode (a dictionary with an integer key).
        #expect(try storage.put(PutRequest(token: try storage.token(for: NodeID.zero), item: .immutable(value: utf8("di1ei2ee"))))
            == KRPCError.protocolError)
        #expect(storage.stored == 2)
        #expect(try storage.get(good.target).value == nil)
        #expect(storage.net.cores[storage.server]!.statistics.putsRefused == 8)
    }

    @Test func theStoreIsBoundedAndItemsExpire() throws {
        var configuration = DHTConfiguration()
        configuration.itemStore.maxItems = 3
        var storage = Storage(configuration: configuration)
        var targets: [NodeID] = []
        for index in 0..<5 {
            let value = BValue.bytes(utf8("value \(index)")).encoded
            targets.append(BEP44.immutableTarget(value: value))
            #expect(try storage.put(.immutable(value: value)) == nil)
            storage.net.advance(.seconds(1))
        }
        #expect(storage.stored == 3)
        // The oldest made room.
        #expect(try storage.get(targets[0]).value == nil)
        #expect(try storage.get(targets[4]).value != nil)
        // Not re-put for two hours: gone.
        storage.net.advance(.minutes(121), step: .minutes(1))
        #expect(storage.stored == 0)

        var store = ItemStore(limits: { var limits = ItemStore.Limits(); limits.maxBytes = 1_000; return limits }())
        for index in 0..<10 {
            let value = BValue.bytes([UInt8](repeating: UInt8(index), count: 300)).encoded
            #expect(store.store(.immutable(value: value), target: BEP44.immutableTarget(value: value), cas: nil,
                                now: .seconds(Double(index))) == nil)
            #expect(store.byteCount <= 1_000)
        }
        #expect(store.count == 2)
    }

    @Test func aRouterAnswersGetLikeFindNodeAndRefusesPut() throws {
        var router = RouterCoreTests.makeCore(allowPrivate: true)
        let source = NodeAddress("10.1.2.3:9000")!
        let id = NodeID(high: 1, middle: 1, low: 1)
        let value = utf8("5:hello")
        let get = RouterCoreTests.query(.get(id: id, target: BEP44.immutableTarget(value: value), sequence: nil, want: []))
        guard case .response(let got) = RouterCoreTests.send(&router, get, from: source, at: .seconds(1))?.body else {
            Issue.record("get not answered"); return
        }
        // No token: nobody can put to a router.
        #expect(got.token == nil && got.value == nil)
        let put = RouterCoreTests.query(.put(id: id, request: PutRequest(token: ShortBytes(utf8("t"))!,
                                                                         item: .immutable(value: value))), t: 2)
        guard case .error(let error) = RouterCoreTests.send(&router, put, from: source, at: .seconds(2))?.body else {
            Issue.record("put not refused"); return
        }
        #expect(error.code == KRPCError.protocolError)
    }
}
