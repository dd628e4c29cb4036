import NIOCore

/// Size of a BitTorrent block: what one `request` asks for. Also the RaptorQ
/// symbol size of the fountain-coded swarm (DESIGN §5), so it never changes.
public let blockSize = 16_384

/// A block of a piece: `length` bytes at `begin`.
public struct BlockRequest: Hashable, Sendable, CustomStringConvertible {
    public var piece: Int
    public var begin: Int
    public var length: Int

    public init(piece: Int, begin: Int, length: Int) {
        self.piece = piece
        self.begin = begin
        self.length = length
    }

    public var description: String { "piece \(piece) @\(begin)+\(length)" }
}

/// One message of the peer wire protocol (BEP 3, 5, 6, 10), decoded once at
/// the edge. Block payloads are `ByteBuffer` slices of the receive buffer: no copy.
public enum PeerMessage: Sendable, Equatable {
    case keepAlive
    case choke
    case unchoke
    case interested
    case notInterested
    case have(piece: Int)
    /// Raw bitfield bytes: their length can only be checked once the piece count is known.
    case bitfield([UInt8])
    case request(BlockRequest)
    case piece(piece: Int, begin: Int, data: ByteBuffer)
    case cancel(BlockRequest)
    /// BEP 5: the sender's DHT UDP port.
    case port(UInt16)
    /// BEP 6 fast extension.
    case suggestPiece(piece: Int)
    case haveAll
    case haveNone
    case rejectRequest(BlockRequest)
    case allowedFast(piece: Int)
    /// BEP 10: `id` 0 is the extension handshake, others are the IDs we gave in our `m`.
    case extended(id: UInt8, payload: ByteBuffer)
    /// A message ID we do not know; BEP 3 says to ignore it.
    case unknown(id: UInt8)

    /// Wire IDs (BEP 3, 5, 6, 10).
    public enum ID: UInt8 {
        case choke = 0, unchoke = 1, interested = 2, notInterested = 3, have = 4, bitfield = 5
        case request = 6, piece = 7, cancel = 8, port = 9
        case suggestPiece = 0x0D, haveAll = 0x0E, haveNone = 0x0F, rejectRequest = 0x10, allowedFast = 0x11
        case extended = 20
    }
}
