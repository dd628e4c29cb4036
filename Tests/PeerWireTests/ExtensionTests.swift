import Bencode
import Crypto
import Metainfo
import NIOCore
import Testing
@testable import PeerWire

@Suite struct ExtensionHandshakeTests {
    @Test func roundTripsEveryField() throws {
        let handshake = ExtensionHandshake(extensions: ["ut_metadata": 1, "bf_fountain": 2], client: "BitFountain 0.1.0",
                                           listenPort: 6881, requestQueueLength: 2000, metadataSize: 31_337, yourIP: [127, 0, 0, 1])
        #expect(try ExtensionHandshake(decoding: handshake.encoded) == handshake)
    }

    @Test func toleratesUnknownKeysAndOddValues() throws {
        let bytes = BValue.dict([
            "m": .dict(["ut_metadata": 3, "ut_pex": 0, "weird": -5]),
            "p": 70000, "reqq": 250, "metadata_size": -1, "yourip": .bytes([1, 2, 3]), "future": "x",
        ]).encoded
        let decoded = try ExtensionHandshake(decoding: bytes)
        #expect(decoded.id(of: "ut_metadata") == 3)
        #expect(decoded.id(of: "ut_pex") == nil, "0 disables an extension")
        #expect(decoded.extensions["weird"] == nil)
        #expect(decoded.listenPort == nil && decoded.metadataSize == nil && decoded.yourIP == nil)
        #expect(decoded.requestQueueLength == 250)
        #expect(throws: PeerWireError.self) { _ = try ExtensionHandshake(decoding: Array("li1ee".utf8)) }
        #expect(throws: PeerWireError.self) { _ = try ExtensionHandshake(decoding: Array("garbage".utf8)) }
    }

    @Test func registryIsOpenToMoreExtensions() {
        let registry = ExtensionRegistry(names: ["ut_metadata", "bf_fountain"])
        #expect(registry.localIDs == ["ut_metadata": 1, "bf_fountain": 2])
        #expect(registry.name(forLocalID: 2) == "bf_fountain")
        #expect(registry.name(forLocalID: 9) == nil)
    }
}

@Suite struct UTMetadataTests {
    @Test func messagesRoundTrip() throws {
        let messages: [UTMetadata.Message] = [.request(piece: 2), .reject(piece: 1),
                                              .data(piece: 0, totalSize: 5, payload: [1, 2, 3, 4, 5])]
        for message in messages {
            #expect(try UTMetadata.decode(ByteBuffer(bytes: UTMetadata.encode(message))) == message)
        }
        #expect(throws: PeerWireError.self) { _ = try UTMetadata.decode(ByteBuffer(bytes: Array("d8:msg_typei7e5:piecei0ee".utf8))) }
        #expect(throws: PeerWireError.self) {
            _ = try UTMetadata.decode(ByteBuffer(bytes: Array("d8:msg_typei1e5:piecei0e10:total_sizei999999999999ee".utf8)))
        }
    }

    static func sampleInfo(name: String = "file.bin", pieces: Int = 3) -> [UInt8] {
        BValue.dict([
            "name": .string(name), "length": .integer(Int64(pieces * 16384)), "piece length": 16384,
            "pieces": .bytes([UInt8](repeating: 7, count: 20 * pieces)),
            "padding": .bytes([UInt8](repeating: 0, count: 40_000)),  // make it span three metadata pieces
        ]).encoded
    }

    @Test func assemblesVerifiedMetadataFromPieces() throws {
        let raw = Self.sampleInfo()
        let infoHash = InfoHash(bytes: Array(Insecure.SHA1.hash(data: raw)))!
        var assembler = try MetadataAssembler(infoHash: infoHash, size: raw.count)
        #expect(assembler.pieceCount == 3)
        for piece in [2, 0] {
            let range = piece * 16384..<min(raw.count, (piece + 1) * 16384)
            guard case .incomplete = try assembler.add(piece: piece, totalSize: raw.count, payload: Array(raw[range]), from: 1) else {
                Issue.record("complete too early"); return
            }
        }
        #expect(assembler.missingPieces == [1])
        let outcome = try assembler.add(piece: 1, totalSize: raw.count, payload: Array(raw[16384..<32768]), from: 2)
        guard case .complete(let info) = outcome else { Issue.record("expected complete, got \(outcome)"); return }
        #expect(info.infoHash == infoHash)
        #expect(info.name == "file.bin")
    }

    @Test func metadataThatDoesNotHashToTheInfohashIsRejected() throws {
        let raw = Self.sampleInfo()
        let infoHash = InfoHash(bytes: [UInt8](repeating: 9, count: 20))!
        var assembler = try MetadataAssembler(infoHash: infoHash, size: raw.count)
        var outcome: MetadataAssembler.Outcome = .incomplete
        for piece in 0..<3 {
            let range = piece * 16384..<min(raw.count, (piece + 1) * 16384)
            outcome = try assembler.add(piece: piece, totalSize: raw.count, payload: Array(raw[range]), from: UInt64(10 + piece))
        }
        guard case .rejected(_, let senders) = outcome else { Issue.record("expected a rejection"); return }
        #expect(senders == [10, 11, 12])
        #expect(assembler.missingPieces == [0, 1, 2], "a rejected dictionary is discarded whole")
    }

    @Test func pathTraversalInVerifiedMetadataIsRefused() throws {
        let raw = BValue.dict([
            "name": "evil", "piece length": 16384, "pieces": .bytes([UInt8](repeating: 1, count: 20)),
            "files": .list([.dict(["length": 10, "path": .list(["..", "..", "etc", "passwd"])])]),
        ]).encoded
        let infoHash = InfoHash(bytes: Array(Insecure.SHA1.hash(data: raw)))!
        var assembler = try MetadataAssembler(infoHash: infoHash, size: raw.count)
        let outcome = try assembler.add(piece: 0, totalSize: raw.count, payload: raw, from: 1)
        guard case .rejected(let reason, let senders) = outcome else { Issue.record("expected a rejection"); return }
        #expect(reason.contains("unsafe file path"))
        #expect(senders.isEmpty, "the publisher made it so; the peer that relayed it is not to blame")
    }

    @Test func sizesAndPieceLengthsAreBounded() throws {
        let infoHash = InfoHash(bytes: [UInt8](repeating: 1, count: 20))!
        #expect(throws: PeerWireError.self) { _ = try MetadataAssembler(infoHash: infoHash, size: UTMetadata.maxMetadataSize + 1) }
        #expect(throws: PeerWireError.self) { _ = try MetadataAssembler(infoHash: infoHash, size: 0) }
        var assembler = try MetadataAssembler(infoHash: infoHash, size: 20000)
        #expect(throws: PeerWireError.self) { _ = try assembler.add(piece: 0, totalSize: 20000, payload: [1, 2, 3], from: 1) }
        #expect(throws: PeerWireError.self) { _ = try assembler.add(piece: 5, totalSize: 20000, payload: [], from: 1) }
        #expect(throws: PeerWireError.self) { _ = try assembler.add(piece: 1, totalSize: 999, payload: [], from: 1) }
    }
}

@Suite struct AllowedFastTests {
    /// The example in BEP 6.
    @Test func matchesTheBEP6Example() {
        let infoHash = InfoHash(bytes: [UInt8](repeating: 0xAA, count: 20))!
        #expect(AllowedFast.pieces(forIPv4: [80, 4, 4, 200], infoHash: infoHash, pieceCount: 1313, count: 7)
                == [1059, 431, 808, 1217, 287, 376, 1188])
        #expect(AllowedFast.pieces(forIPv4: [80, 4, 4, 200], infoHash: infoHash, pieceCount: 1313, count: 9)
                == [1059, 431, 808, 1217, 287, 376, 1188, 353, 508])
        #expect(AllowedFast.pieces(forIPv4: [80, 4, 4, 7], infoHash: infoHash, pieceCount: 1313, count: 7)
                == AllowedFast.pieces(forIPv4: [80, 4, 4, 200], infoHash: infoHash, pieceCount: 1313, count: 7), "same /24")
        #expect(AllowedFast.pieces(forIPv4: [1, 2, 3, 4], infoHash: infoHash, pieceCount: 3, count: 10).sorted() == [0, 1, 2])
        #expect(AllowedFast.pieces(forIPv4: [UInt8](repeating: 0, count: 16), infoHash: infoHash, pieceCount: 10, count: 3).isEmpty)
    }
}
