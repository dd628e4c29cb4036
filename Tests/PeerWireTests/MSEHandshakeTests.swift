import Metainfo
@testable import PeerWire
import Testing

private let torrent = InfoHash(bytes: (0..<20).map { UInt8($0 * 7) })!
private let otherTorrent = InfoHash(bytes: [UInt8](repeating: 0xab, count: 20))!
/// Stands in for our 68-byte BitTorrent handshake, carried as IA.
private let handshakeA = (0..<68).map { UInt8(truncatingIfNeeded: $0 &+ 100) }
private let handshakeB = (0..<68).map { UInt8(truncatingIfNeeded: $0 &+ 200) }

private func lookup(serving torrents: [InfoHash]) -> ([UInt8]) -> InfoHash? {
    { req2 in torrents.first { MSEHashes.req2(infoHash: $0) == req2 } }
}

private func padding(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) } }

/// Both sides of an in-memory connection.
private struct Connection {
    var initiator: MSEInitiator
    var responder: MSEResponder
    var a: MSEEstablished?
    var b: MSEEstablished?
    /// What reached the initiator's side of the stream: its payload at
    /// establishment, then what followed (through the pass-through, decrypted).
    var streamToA: [UInt8] = []

    init(offer: MSECryptoMethods, accept: MSECryptoMethods, pads: (Int, Int, Int, Int) = (17, 301, 5, 9),
         serving: [InfoHash] = [otherTorrent, torrent]) {
        initiator = MSEInitiator(infoHash: torrent, offer: offer, keys: .random(), padA: padding(pads.0),
                                 padC: padding(pads.2), initialPayload: handshakeA)
        responder = MSEResponder(accept: accept, keys: .random(), padB: padding(pads.1), padD: padding(pads.3),
                                 lookup: lookup(serving: serving))
    }

    /// Shuttles bytes both ways, `chunk` bytes per delivery, until both are established.
    /// The responder sends its own handshake right behind step 4, as real peers do.
    mutating func run(chunk: Int = 1 << 20) throws(MSEError) {
        var toResponder = initiator.start()
        var toInitiator: [UInt8] = []
        for _ in 0..<10_000 where a == nil || b == nil || !toInitiator.isEmpty {
            if !toResponder.isEmpty {
                let piece = Array(toResponder.prefix(chunk))
                toResponder.removeFirst(piece.count)
                let step = try responder.receive(piece)
                toInitiator += step.send
                if let established = step.established {
                    b = established
                    var greeting = handshakeB
                    established.outgoing?.apply(&greeting)
                    toInitiator += greeting
                }
            }
            if !toInitiator.isEmpty {
                let piece = Array(toInitiator.prefix(chunk))
                toInitiator.removeFirst(piece.count)
                if let a {
                    var rest = piece
                    a.incoming?.apply(&rest)
                    streamToA += rest
                } else {
                    let step = try initiator.receive(piece)
                    toResponder += step.send
                    if let established = step.established {
                        a = established
                        streamToA = established.payload
                    }
                }
            }
        }
    }
}

@Suite("MSE handshake")
struct MSEHandshakeTests {
    /// crypto_provide, what the responder accepts, what it should select (nil: no connection).
    static let negotiations: [(MSECryptoMethods, MSECryptoMethods, MSECryptoMethods?)] = [
        ([.plaintext, .rc4], [.plaintext, .rc4], .plaintext),
        ([.plaintext, .rc4], .rc4, .rc4),
        (.rc4, [.plaintext, .rc4], .rc4),
        (.rc4, .rc4, .rc4),
        (.plaintext, [.plaintext, .rc4], .plaintext),
        (.plaintext, .rc4, nil),
    ]

    @Test("offer × accept: which combinations connect and what they select", arguments: negotiations)
    func negotiation(offer: MSECryptoMethods, accept: MSECryptoMethods, expected: MSECryptoMethods?) throws {
        var connection = Connection(offer: offer, accept: accept)
        guard let expected else {
            #expect(throws: MSEError.noCommonMethod(offered: offer, accepted: accept)) { try connection.run() }
            return
        }
        try connection.run()
        let a = try #require(connection.a), b = try #require(connection.b)
        #expect(a.method == expected && b.method == expected)
        #expect(a.infoHash == torrent && b.infoHash == torrent)
        // IA reaches the responder; the responder's greeting reaches the initiator.
        #expect(b.payload == handshakeA)
        #expect(connection.streamToA == handshakeB)
        #expect((a.outgoing != nil) == (expected == .rc4))
        if let outgoing = a.outgoing, let incoming = b.incoming {
            var message = Array("after the handshake".utf8)
            outgoing.apply(&message)
            #expect(message != Array("after the handshake".utf8))
            incoming.apply(&message)
            #expect(message == Array("after the handshake".utf8))
        }
    }

    @Test("any split of the byte stream and any padding length, 0 to 512, gives the same result",
          arguments: [1, 7, 96, 500, 4096])
    func chunked(chunk: Int) throws {
        for pads in [(0, 0, 0, 0), (512, 512, 512, 512), (1, 511, 200, 3)] {
            var connection = Connection(offer: .rc4, accept: [.plaintext, .rc4], pads: pads)
            try connection.run(chunk: chunk)
            #expect(connection.streamToA == handshakeB)
            #expect(connection.b?.payload == handshakeA)
        }
    }

    @Test("an infohash we do not serve is refused: unknown SKEY")
    func unknownTorrent() {
        var connection = Connection(offer: .rc4, accept: .rc4, serving: [otherTorrent])
        #expect(throws: MSEError.unknownInfoHash) { try connection.run() }
    }
}

/// A hand-built initiator that can put anything into step 3.
private struct RogueInitiator {
    let keys = MSEKeyExchange.random()
    var padA: [UInt8] = []
    var vc = [UInt8](repeating: 0, count: 8)
    var provide: UInt32 = 0x02
    var padCLength: UInt16 = 0
    var initialPayloadLength: UInt16 = 0
    var skey = torrent

    /// Runs against `responder`: step 1, then step 3 built from Yb.
    func attack(_ responder: inout MSEResponder) throws(MSEError) {
        let reply = try responder.receive(keys.publicKey + padA)
        let secret = try keys.sharedSecret(peerPublicKey: Array(reply.send.prefix(96)))
        var fields = vc
        fields.appendBigEndian(provide)
        fields.appendBigEndian(padCLength)
        fields += [UInt8](repeating: 0, count: Int(min(padCLength, 512)))
        fields.appendBigEndian(initialPayloadLength)
        MSEHashes.ciphers(secret: secret, infoHash: skey, initiator: true).outgoing.apply(&fields)
        let masked = zip(MSEHashes.req2(infoHash: skey), MSEHashes.req3(secret: secret)).map { $0 ^ $1 }
        _ = try responder.receive(MSEHashes.req1(secret: secret) + masked + fields)
    }
}

@Suite("MSE hostile input")
struct MSEHostileInputTests {
    private func responder(accept: MSECryptoMethods = [.plaintext, .rc4]) -> MSEResponder {
        MSEResponder(accept: accept, keys: .random(), padB: [], padD: [], lookup: lookup(serving: [torrent]))
    }

    @Test("garbage: no HASH('req1', S) within 512 + 20 bytes of Ya, however much keeps coming")
    func garbage() {
        var target = responder()
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<96 + 531).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(throws: Never.self) { try target.receive(noise) }  // one byte short of the window: still waiting
        #expect(throws: MSEError.noSynchronization(pattern: "HASH('req1', S)", window: 532)) {
            try target.receive([0])
        }
    }

    @Test("a megabyte of garbage in one read fails at once rather than being searched")
    func garbageFlood() {
        var target = responder()
        #expect(throws: MSEError.self) { try target.receive([UInt8](repeating: 0x55, count: 1 << 20)) }
    }

    @Test("PadA of 513 bytes puts HASH('req1', S) out of reach")
    func overLongPadding() {
        var target = responder()
        #expect(throws: MSEError.noSynchronization(pattern: "HASH('req1', S)", window: 532)) {
            try RogueInitiator(padA: [UInt8](repeating: 0, count: 513)).attack(&target)
        }
        var atLimit = responder()
        #expect(throws: Never.self) { try RogueInitiator(padA: [UInt8](repeating: 0, count: 512)).attack(&atLimit) }
    }

    @Test("step 3 fields out of bounds each get their own error")
    func badFields() {
        let cases: [(RogueInitiator, MSEError)] = [
            (RogueInitiator(provide: 0), .noCommonMethod(offered: [], accepted: [.plaintext, .rc4])),
            (RogueInitiator(provide: 0x04), .noCommonMethod(offered: MSECryptoMethods(rawValue: 4), accepted: [.plaintext, .rc4])),
            (RogueInitiator(padCLength: 513), .paddingTooLong(513)),
            (RogueInitiator(initialPayloadLength: UInt16(MSE.maxInitialPayload + 1)), .initialPayloadTooLong(MSE.maxInitialPayload + 1)),
            (RogueInitiator(vc: [0, 0, 0, 0, 0, 0, 0, 1]), .badVerificationConstant),
            (RogueInitiator(skey: otherTorrent), .unknownInfoHash),
        ]
        for (rogue, error) in cases {
            var target = responder()
            #expect(throws: error) { try rogue.attack(&target) }
        }
    }

    @Test("a responder that requires RC4 refuses an offer of plaintext only")
    func requireRefusesPlaintext() {
        var target = responder(accept: .rc4)
        #expect(throws: MSEError.noCommonMethod(offered: .plaintext, accepted: .rc4)) {
            try RogueInitiator(provide: 0x01).attack(&target)
        }
    }

    @Test("the initiator: no ENCRYPT(VC) within 512 + 8 bytes of Yb; a selection it did not offer; PadD too long")
    func hostileResponder() throws {
        var generator = SystemRandomNumberGenerator()
        var initiator = MSEInitiator(infoHash: torrent, offer: .rc4, keys: .random(), padA: [], padC: [], initialPayload: [])
        let peer = MSEKeyExchange.random()
        _ = initiator.start()
        let noise = (0..<520).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(throws: MSEError.noSynchronization(pattern: "ENCRYPT(VC)", window: 520)) {
            try initiator.receive(peer.publicKey + noise)
        }

        let replies: [(UInt32, UInt16, MSEError)] = [
            (0x01, 0, .invalidSelection(selected: .plaintext, offered: .rc4)),
            (0x03, 0, .invalidSelection(selected: [.plaintext, .rc4], offered: .rc4)),
            (0x02, 513, .paddingTooLong(513)),
        ]
        for (select, padD, error) in replies {
            let keys = MSEKeyExchange.random()
            var target = MSEInitiator(infoHash: torrent, offer: .rc4, keys: keys, padA: [], padC: [], initialPayload: [])
            let secret = try peer.sharedSecret(peerPublicKey: keys.publicKey)
            var reply = [UInt8](repeating: 0, count: 8)
            reply.appendBigEndian(select)
            reply.appendBigEndian(padD)
            MSEHashes.ciphers(secret: secret, infoHash: torrent, initiator: false).outgoing.apply(&reply)
            #expect(throws: error) { try target.receive(peer.publicKey + reply) }
        }
    }
}
