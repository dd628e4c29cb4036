import Bencode
import NIOCore
import Testing
@testable import PeerWire

@Suite struct FountainMessageTests {
    static func symbol(_ fill: UInt8) -> ByteBuffer { ByteBuffer(bytes: [UInt8](repeating: fill, count: BFFountain.symbolSize)) }

    /// A payload built by hand: a bencoded dictionary, then raw bytes.
    static func payload(_ dict: BValue, trailing: [UInt8] = []) -> ByteBuffer { ByteBuffer(bytes: dict.encoded + trailing) }

    @Test func messagesRoundTripThroughTheWireCodec() throws {
        let messages: [BFFountain.Message] = [
            .request(piece: 7, esis: [16, 5_000_000, (1 << 24) - 1]),
            .symbol(piece: 123_456, esi: 9_999_999, payload: Self.symbol(0xAB)),
            .reject(piece: 0),
        ]
        for message in messages {
            var wire = ByteBuffer()
            PeerMessage.extended(id: 2, payload: BFFountain.encode(message)).write(to: &wire)
            guard case .extended(2, let payload)? = try PeerMessageDecoder().next(from: &wire) else {
                Issue.record("not an extended message")
                continue
            }
            #expect(try BFFountain.decode(payload) == message)
        }
    }

    @Test func wireFormatIsADictionaryThenTheSymbol() throws {
        let payload = BFFountain.encode(.symbol(piece: 3, esi: 17, payload: Self.symbol(1)))
        let bytes = Array(payload.readableBytesView)
        let header = Array("d3:esii17e8:msg_typei1e5:piecei3ee".utf8)
        #expect(Array(bytes.prefix(header.count)) == header)
        #expect(bytes.count == header.count + BFFountain.symbolSize)
        #expect(Array(BFFountain.encode(.request(piece: 3, esis: [20, 21])).readableBytesView)
                == Array("d4:esisli20ei21ee8:msg_typei0e5:piecei3ee".utf8))
        #expect(Array(BFFountain.encode(.reject(piece: 3)).readableBytesView) == Array("d8:msg_typei2e5:piecei3ee".utf8))
    }

    @Test func symbolHeaderIsTheCanonicalBencoding() {
        for (piece, esi) in [(0, UInt32(0)), (3, 17), (123_456, 9_999_999), (Int(Int32.max), (1 << 24) - 1)] {
            var written = ByteBuffer()
            let length = BFFountain.writeSymbolHeader(piece: piece, esi: esi, to: &written)
            let canonical = BValue.dict(["msg_type": 1, "piece": .integer(Int64(piece)), "esi": .integer(Int64(esi))]).encoded
            #expect(Array(written.readableBytesView) == canonical)
            #expect(length == canonical.count)
        }
    }

    @Test func symbolPrefixAndPayloadMakeTheSameMessage() throws {
        var split = ByteBuffer()
        BFFountain.writeSymbolPrefix(extensionID: 5, piece: 42, esi: 70_000, to: &split)
        var payload = Self.symbol(9)
        split.writeBuffer(&payload)
        var whole = ByteBuffer()
        PeerMessage.extended(id: 5, payload: BFFountain.encode(.symbol(piece: 42, esi: 70_000, payload: Self.symbol(9)))).write(to: &whole)
        #expect(split == whole)
    }

    @Test func decodedSymbolIsASliceOfTheReceivedBytes() throws {
        let payload = BFFountain.encode(.symbol(piece: 1, esi: 40, payload: Self.symbol(7)))
        guard case .symbol(_, _, let data) = try BFFountain.decode(payload) else { Issue.record("not a symbol"); return }
        #expect(data.readableBytes == BFFountain.symbolSize)
        #expect(data.readableBytesView.allSatisfy { $0 == 7 })
    }

    @Test func everyCountFromTheWireIsBounded() {
        let tooMany = (0..<(BFFountain.maxESIsPerRequest + 1)).map { BValue.integer(Int64(100 + $0)) }
        let bad: [(String, ByteBuffer)] = [
            ("empty esis", Self.payload(.dict(["msg_type": 0, "piece": 1, "esis": .list([])]))),
            ("too many esis", Self.payload(.dict(["msg_type": 0, "piece": 1, "esis": .list(tooMany)]))),
            ("ESI of 2^24", Self.payload(.dict(["msg_type": 0, "piece": 1, "esis": .list([.integer(1 << 24)])]))),
            ("negative ESI", Self.payload(.dict(["msg_type": 0, "piece": 1, "esis": .list([-1])]))),
            ("ESI not an integer", Self.payload(.dict(["msg_type": 0, "piece": 1, "esis": .list(["x"])]))),
            ("esis not a list", Self.payload(.dict(["msg_type": 0, "piece": 1, "esis": 5]))),
            ("request with trailing bytes", Self.payload(.dict(["msg_type": 0, "piece": 1, "esis": .list([20])]), trailing: [0])),
            ("negative piece", Self.payload(.dict(["msg_type": 2, "piece": -1]))),
            ("piece beyond 2^31", Self.payload(.dict(["msg_type": 2, "piece": .integer(1 << 31)]))),
            ("no piece", Self.payload(.dict(["msg_type": 2]))),
            ("short symbol", Self.payload(.dict(["msg_type": 1, "piece": 1, "esi": 20]), trailing: [UInt8](repeating: 0, count: BFFountain.symbolSize - 1))),
            ("long symbol", Self.payload(.dict(["msg_type": 1, "piece": 1, "esi": 20]), trailing: [UInt8](repeating: 0, count: BFFountain.symbolSize + 1))),
            ("symbol without esi", Self.payload(.dict(["msg_type": 1, "piece": 1]), trailing: [UInt8](repeating: 0, count: BFFountain.symbolSize))),
            ("symbol ESI of 2^24", Self.payload(.dict(["msg_type": 1, "piece": 1, "esi": .integer(1 << 24)]), trailing: [UInt8](repeating: 0, count: BFFountain.symbolSize))),
            ("reject with trailing bytes", Self.payload(.dict(["msg_type": 2, "piece": 1]), trailing: [1])),
            ("unknown type", Self.payload(.dict(["msg_type": 9, "piece": 1]))),
            ("not a dictionary", Self.payload(.list([0, 1]))),
            ("not bencode", ByteBuffer(bytes: Array("hello".utf8))),
            ("empty", ByteBuffer()),
            ("a long string in the header", Self.payload(.dict(["msg_type": 2, "piece": 1, "pad": .bytes([UInt8](repeating: 1, count: 100))]))),
            ("header past the window", Self.payload(.dict(["msg_type": 0, "piece": 1, "esis": .list((0..<3000).map { .integer(Int64($0)) })]))),
        ]
        for (name, payload) in bad {
            #expect(throws: PeerWireError.self, "\(name)") { _ = try BFFountain.decode(payload) }
        }
    }

    @Test func unknownKeysAreIgnored() throws {
        let payload = Self.payload(.dict(["msg_type": 2, "piece": 4, "x": 1]))
        #expect(try BFFountain.decode(payload) == .reject(piece: 4))
    }

    @Test func registriesWithAndWithoutTheFountain() {
        #expect(ExtensionRegistry.bitFountain.localIDs[BFFountain.extensionName] != nil)
        #expect(ExtensionRegistry.bitFountain.localIDs[UTMetadata.extensionName] != nil)
        #expect(ExtensionRegistry.standard.localIDs[BFFountain.extensionName] == nil, "--no-fountain offers only ut_metadata")
    }
}
