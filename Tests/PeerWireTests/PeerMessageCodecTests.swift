import Metainfo
import NIOCore
import Testing
@testable import PeerWire

@Suite struct PeerMessageCodecTests {
    static let samples: [PeerMessage] = [
        .keepAlive, .choke, .unchoke, .interested, .notInterested, .have(piece: 7),
        .bitfield([0xFF, 0x80]), .request(BlockRequest(piece: 3, begin: 16384, length: 16384)),
        .piece(piece: 3, begin: 16384, data: ByteBuffer(bytes: [1, 2, 3, 4, 5])),
        .cancel(BlockRequest(piece: 1, begin: 0, length: 100)), .port(6881), .suggestPiece(piece: 9),
        .haveAll, .haveNone, .rejectRequest(BlockRequest(piece: 2, begin: 32768, length: 16384)),
        .allowedFast(piece: 4), .extended(id: 3, payload: ByteBuffer(bytes: Array("d1:ai1ee".utf8))),
    ]

    @Test func everyMessageRoundTrips() throws {
        var stream = ByteBuffer()
        for message in Self.samples {
            let before = stream.writerIndex
            message.write(to: &stream)
            #expect(stream.writerIndex - before == message.wireLength)
        }
        let decoder = PeerMessageDecoder()
        var decoded: [PeerMessage] = []
        while let message = try decoder.next(from: &stream) { decoded.append(message) }
        #expect(decoded == Self.samples)
        #expect(stream.readableBytes == 0)
    }

    @Test func partialMessagesWaitForMoreBytes() throws {
        var whole = ByteBuffer()
        PeerMessage.request(BlockRequest(piece: 1, begin: 2, length: 3)).write(to: &whole)
        let bytes = Array(whole.readableBytesView)
        let decoder = PeerMessageDecoder()
        for cut in 0..<bytes.count {
            var partial = ByteBuffer(bytes: bytes[0..<cut])
            #expect(try decoder.next(from: &partial) == nil)
            #expect(partial.readerIndex == 0, "nothing is consumed from an incomplete message")
        }
    }

    @Test func oversizedLengthIsRejectedBeforeTheBodyArrives() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(0xFFFF_FFF0))
        buffer.writeInteger(UInt8(7))
        #expect(throws: PeerWireError.messageTooLong(length: 0xFFFF_FFF0, limit: PeerMessageDecoder().maxMessageLength)) {
            _ = try PeerMessageDecoder().next(from: &buffer)
        }
    }

    @Test func wrongPayloadSizesAreMalformed() {
        for (id, payload) in [(UInt8(4), [UInt8](repeating: 0, count: 3)), (6, [0, 0, 0, 1]), (0, [1]), (9, [1])] {
            var buffer = ByteBuffer()
            buffer.writeInteger(UInt32(1 + payload.count))
            buffer.writeInteger(id)
            buffer.writeBytes(payload)
            #expect(throws: PeerWireError.self) { _ = try PeerMessageDecoder().next(from: &buffer) }
        }
    }

    @Test func unknownIDsAreReturnedForTheCallerToIgnore() throws {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 3, 99, 1, 2])
        #expect(try PeerMessageDecoder().next(from: &buffer) == .unknown(id: 99))
    }

    @Test func garbageNeverCrashesTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        let decoder = PeerMessageDecoder(maxMessageLength: 1 << 16)
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<64, using: &generator)
            var buffer = ByteBuffer(bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            // Either a message, nil (needs more) or a thrown PeerWireError: never a trap.
            _ = try? decoder.next(from: &buffer)
        }
    }

    @Test func pieceHeaderMatchesTheFullEncoding() {
        var full = ByteBuffer()
        PeerMessage.piece(piece: 5, begin: 32768, data: ByteBuffer(bytes: [9, 9])).write(to: &full)
        var header = ByteBuffer()
        PeerMessage.writePieceHeader(piece: 5, begin: 32768, length: 2, to: &header)
        header.writeBytes([9, 9])
        #expect(full == header)
    }
}

@Suite struct HandshakeTests {
    @Test func handshakeRoundTripsWithReservedBits() throws {
        let infoHash = InfoHash(bytes: [UInt8](repeating: 0xAB, count: 20))!
        let peerID = PeerID.generate()
        let handshake = Handshake(reserved: .bitFountain, infoHash: infoHash, peerID: peerID)
        let bytes = handshake.encoded
        #expect(bytes.count == 68)
        #expect(bytes[25] == 0x10 && bytes[27] == 0x05, "extension protocol, DHT and fast bits")
        let decoded = try Handshake(decoding: bytes)
        #expect(decoded == handshake)
        #expect(decoded.reserved.fast && decoded.reserved.dht && decoded.reserved.extensionProtocol)
    }

    @Test func otherProtocolsAreRefused() {
        var bytes = Handshake(reserved: .init(), infoHash: InfoHash(bytes: [UInt8](repeating: 1, count: 20))!,
                              peerID: PeerID.generate()).encoded
        bytes[3] = UInt8(ascii: "X")
        #expect(throws: PeerWireError.self) { _ = try Handshake(decoding: bytes) }
        #expect(throws: PeerWireError.self) { _ = try Handshake(decoding: bytes.prefix(40)) }
    }

    @Test func peerIDsCarryTheClientPrefix() {
        let id = PeerID.generate()
        #expect(Array(id.bytes.prefix(8)) == Array("-FN0001-".utf8))
        #expect(id.description == "-FN0001-")
        #expect(PeerID.generate() != id)
    }
}

@Suite struct BitfieldTests {
    @Test func setCountAndSpareBits() {
        var field = Bitfield(count: 10)
        field[0] = true
        field[9] = true
        field[9] = true
        #expect(field.setCount == 2)
        #expect(field.bytes == [0x80, 0x40])
        #expect(field.setIndices == [0, 9])
        #expect(Bitfield(count: 10, bytes: [0xFF, 0xC0])?.isComplete == true)
        #expect(Bitfield(count: 10, bytes: [0xFF, 0xE0]) == nil, "a spare bit is set")
        #expect(Bitfield(count: 10, bytes: [0xFF]) == nil, "wrong length")
        #expect(Bitfield(count: 10, allSet: true).bytes == [0xFF, 0xC0])
    }
}
