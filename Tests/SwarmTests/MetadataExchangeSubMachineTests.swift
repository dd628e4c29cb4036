import Metainfo
import PeerWire
import Testing
@testable import Swarm

/// The BEP 9 metadata sub-machine on its own: who is asked for which piece,
/// what happens to rejects, timeouts and a lying size, and our replies.
@Suite struct MetadataExchangeSubMachineTests {
    /// Three 16 KiB metadata pieces.
    static let size = 2 * UTMetadata.pieceSize + 100
    static let infoHash = InfoHash(bytes: [UInt8](repeating: 7, count: 20))!

    static func exchange(perPeer: Int = 2) -> MetadataExchange {
        MetadataExchange(infoHash: infoHash, requestsPerPeer: perPeer, timeout: 10)
    }

    @Test func eachPieceIsAskedOfOnePeerAtATimeWithinThePerPeerLimit() throws {
        var exchange = Self.exchange()
        let advertised: [UInt64: Int?] = [1: Self.size, 2: Self.size]
        #expect(try exchange.piecesToRequest(from: 1, advertisedSize: Self.size, advertised: advertised, now: 0) == [0, 1])
        #expect(try exchange.piecesToRequest(from: 2, advertisedSize: Self.size, advertised: advertised, now: 0) == [2])
        #expect(try exchange.piecesToRequest(from: 1, advertisedSize: Self.size, advertised: advertised, now: 1).isEmpty,
                "at its limit, and nothing is left unasked")
        #expect(try exchange.piecesToRequest(from: 3, advertisedSize: nil, advertised: advertised, now: 1).isEmpty,
                "a peer without a metadata size is not asked")
    }

    @Test func aPeerThatLetsARequestExpireIsNotAskedAgainAndItsPiecesMoveOn() throws {
        var exchange = Self.exchange()
        let advertised: [UInt64: Int?] = [1: Self.size, 2: Self.size]
        _ = try exchange.piecesToRequest(from: 1, advertisedSize: Self.size, advertised: advertised, now: 0)
        _ = try exchange.piecesToRequest(from: 2, advertisedSize: Self.size, advertised: advertised, now: 5)
        #expect(try exchange.piecesToRequest(from: 1, advertisedSize: Self.size, advertised: advertised, now: 11).isEmpty)
        #expect(!exchange.mayServe(1, advertisedSize: Self.size))
        #expect(try exchange.piecesToRequest(from: 2, advertisedSize: Self.size, advertised: advertised, now: 11) == [0],
                "peer 1's pieces go to whoever asks next, within peer 2's limit")
    }

    @Test func aRejectEndsAskingThatPeer() throws {
        var exchange = Self.exchange()
        let advertised: [UInt64: Int?] = [1: Self.size]
        _ = try exchange.piecesToRequest(from: 1, advertisedSize: Self.size, advertised: advertised, now: 0)
        exchange.rejected(0, by: 1)
        #expect(!exchange.mayServe(1, advertisedSize: Self.size))
        #expect(try exchange.piecesToRequest(from: 1, advertisedSize: Self.size, advertised: advertised, now: 1).isEmpty)
        exchange.peerGone(1)
        #expect(exchange.mayServe(1, advertisedSize: Self.size), "a key that comes back is a new peer")
    }

    @Test func whenNobodyLeftAdvertisesTheAssembledSizeTheAssemblyStartsOver() throws {
        var exchange = Self.exchange()
        _ = try exchange.piecesToRequest(from: 1, advertisedSize: 999_999, advertised: [1: 999_999, 2: Self.size], now: 0)
        #expect(exchange.assembler?.size == 999_999)
        exchange.rejected(0, by: 1)
        // Piece 1 is still asked of peer 1 (only piece 0 was refused): not asked twice.
        #expect(try exchange.piecesToRequest(from: 2, advertisedSize: Self.size, advertised: [1: 999_999, 2: Self.size], now: 1) == [0, 2])
        #expect(exchange.assembler?.size == Self.size)
    }

    @Test func anImpossibleSizeIsAnError() {
        var exchange = Self.exchange()
        #expect(throws: PeerWireError.self) {
            try exchange.piecesToRequest(from: 1, advertisedSize: 0, advertised: [1: 0], now: 0)
        }
    }

    @Test func piecesNotAskedOfTheSenderAreIgnoredAndAWholeInfoCompletes() throws {
        let info = SimulatedSwarm(size: 100_000, pieceLength: 16384).info
        let raw = info.rawBytes
        var exchange = MetadataExchange(infoHash: info.infoHash, requestsPerPeer: 4, timeout: 10)
        #expect(try exchange.received(0, totalSize: raw.count, payload: raw, from: 1) == nil, "nothing was asked")
        #expect(try exchange.piecesToRequest(from: 1, advertisedSize: raw.count, advertised: [1: raw.count], now: 0) == [0])
        #expect(try exchange.received(0, totalSize: raw.count, payload: raw, from: 2) == nil, "asked of another peer")
        guard case .complete(let assembled)? = try exchange.received(0, totalSize: raw.count, payload: raw, from: 1) else {
            Issue.record("the metadata did not complete")
            return
        }
        #expect(assembled.infoHash == info.infoHash)
        #expect(exchange.assembler == nil && exchange.requests.isEmpty)
    }

    @Test func repliesServeWholePiecesAndRejectTheRest() {
        let raw = [UInt8](repeating: 1, count: UTMetadata.pieceSize + 10)
        guard case .data(1, let total, let payload) = MetadataExchange.reply(to: 1, of: raw) else {
            Issue.record("no data for a piece we have")
            return
        }
        #expect(total == raw.count && payload.count == 10)
        for (piece, metadata) in [(2, raw), (-1, raw), (0, nil)] as [(Int, [UInt8]?)] {
            guard case .reject(piece) = MetadataExchange.reply(to: piece, of: metadata) else {
                Issue.record("piece \(piece) should be rejected")
                continue
            }
        }
    }
}
