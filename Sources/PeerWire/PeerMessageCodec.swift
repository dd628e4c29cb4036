import NIOCore

/// Decodes length-prefixed peer messages from a byte stream.
///
/// The 4-byte length is checked against `maxMessageLength` as soon as it is
/// read, before any byte of the body is awaited or buffered, so a peer that
/// announces a 4 GB message is dropped at once.
public struct PeerMessageDecoder: Sendable {
    /// Largest body accepted. The default fits a piece message (16 KiB block + 9),
    /// a bitfield of 8 million pieces and an extension message of 1 MiB.
    public var maxMessageLength: Int

    public init(maxMessageLength: Int = (1 << 20) + 64) {
        self.maxMessageLength = maxMessageLength
    }

    /// Returns the next whole message and consumes it, or nil (consuming nothing)
    /// when `buffer` does not hold one yet.
    public func next(from buffer: inout ByteBuffer) throws(PeerWireError) -> PeerMessage? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= UInt32(maxMessageLength) else { throw .messageTooLong(length: Int(length), limit: maxMessageLength) }
        let bodyLength = Int(length)
        guard buffer.readableBytes >= 4 + bodyLength else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        if bodyLength == 0 { return .keepAlive }
        var body = buffer.readSlice(length: bodyLength)!
        return try Self.decodeBody(&body)
    }

    /// Decodes one message body (ID byte and payload).
    static func decodeBody(_ body: inout ByteBuffer) throws(PeerWireError) -> PeerMessage {
        let rawID = body.readInteger(as: UInt8.self)!
        guard let id = PeerMessage.ID(rawValue: rawID) else { return .unknown(id: rawID) }
        func expect(_ size: Int) throws(PeerWireError) {
            guard body.readableBytes == size else {
                throw .malformed(id: rawID, reason: "payload of \(body.readableBytes) bytes, expected \(size)")
            }
        }
        func index() -> Int { Int(body.readInteger(as: UInt32.self)!) }
        func block() -> BlockRequest {
            let piece = index(), begin = index(), length = index()
            return BlockRequest(piece: piece, begin: begin, length: length)
        }
        switch id {
        case .choke: try expect(0); return .choke
        case .unchoke: try expect(0); return .unchoke
        case .interested: try expect(0); return .interested
        case .notInterested: try expect(0); return .notInterested
        case .haveAll: try expect(0); return .haveAll
        case .haveNone: try expect(0); return .haveNone
        case .have: try expect(4); return .have(piece: index())
        case .suggestPiece: try expect(4); return .suggestPiece(piece: index())
        case .allowedFast: try expect(4); return .allowedFast(piece: index())
        case .bitfield: return .bitfield(body.readBytes(length: body.readableBytes)!)
        case .request: try expect(12); return .request(block())
        case .cancel: try expect(12); return .cancel(block())
        case .rejectRequest: try expect(12); return .rejectRequest(block())
        case .port: try expect(2); return .port(body.readInteger(as: UInt16.self)!)
        case .piece:
            guard body.readableBytes >= 8 else { throw .malformed(id: rawID, reason: "piece message shorter than its header") }
            let piece = index(), begin = index()
            return .piece(piece: piece, begin: begin, data: body.readSlice(length: body.readableBytes)!)
        case .extended:
            guard body.readableBytes >= 1 else { throw .malformed(id: rawID, reason: "extended message without an ID") }
            let extensionID = body.readInteger(as: UInt8.self)!
            return .extended(id: extensionID, payload: body.readSlice(length: body.readableBytes)!)
        }
    }
}

extension PeerMessage {
    /// Appends the message with its length prefix. For `.piece` the payload is
    /// copied; the hot upload path writes `pieceHeader` and the payload slice separately.
    public func write(to out: inout ByteBuffer) {
        func simple(_ id: ID) {
            out.writeInteger(UInt32(1))
            out.writeInteger(id.rawValue)
        }
        func withIndex(_ id: ID, _ value: Int) {
            out.writeInteger(UInt32(5))
            out.writeInteger(id.rawValue)
            out.writeInteger(UInt32(truncatingIfNeeded: value))
        }
        func withBlock(_ id: ID, _ block: BlockRequest) {
            out.writeInteger(UInt32(13))
            out.writeInteger(id.rawValue)
            out.writeInteger(UInt32(truncatingIfNeeded: block.piece))
            out.writeInteger(UInt32(truncatingIfNeeded: block.begin))
            out.writeInteger(UInt32(truncatingIfNeeded: block.length))
        }
        switch self {
        case .keepAlive: out.writeInteger(UInt32(0))
        case .choke: simple(.choke)
        case .unchoke: simple(.unchoke)
        case .interested: simple(.interested)
        case .notInterested: simple(.notInterested)
        case .haveAll: simple(.haveAll)
        case .haveNone: simple(.haveNone)
        case .have(let piece): withIndex(.have, piece)
        case .suggestPiece(let piece): withIndex(.suggestPiece, piece)
        case .allowedFast(let piece): withIndex(.allowedFast, piece)
        case .bitfield(let bytes):
            out.writeInteger(UInt32(1 + bytes.count))
            out.writeInteger(ID.bitfield.rawValue)
            out.writeBytes(bytes)
        case .request(let block): withBlock(.request, block)
        case .cancel(let block): withBlock(.cancel, block)
        case .rejectRequest(let block): withBlock(.rejectRequest, block)
        case .port(let port):
            out.writeInteger(UInt32(3))
            out.writeInteger(ID.port.rawValue)
            out.writeInteger(port)
        case .piece(let piece, let begin, let data):
            PeerMessage.writePieceHeader(piece: piece, begin: begin, length: data.readableBytes, to: &out)
            out.writeImmutableBuffer(data)
        case .extended(let id, let payload):
            out.writeInteger(UInt32(2 + payload.readableBytes))
            out.writeInteger(ID.extended.rawValue)
            out.writeInteger(id)
            out.writeImmutableBuffer(payload)
        case .unknown(let id):
            // Only tests send these: an ID-only message the receiver should ignore.
            out.writeInteger(UInt32(1))
            out.writeInteger(id)
        }
    }

    /// The 13 bytes that precede a block's payload in a `piece` message.
    public static func writePieceHeader(piece: Int, begin: Int, length: Int, to out: inout ByteBuffer) {
        out.writeInteger(UInt32(9 + length))
        out.writeInteger(ID.piece.rawValue)
        out.writeInteger(UInt32(truncatingIfNeeded: piece))
        out.writeInteger(UInt32(truncatingIfNeeded: begin))
    }

    /// Bytes this message takes on the wire, length prefix included.
    public var wireLength: Int {
        switch self {
        case .keepAlive: return 4
        case .choke, .unchoke, .interested, .notInterested, .haveAll, .haveNone, .unknown: return 5
        case .have, .suggestPiece, .allowedFast: return 9
        case .bitfield(let bytes): return 5 + bytes.count
        case .request, .cancel, .rejectRequest: return 17
        case .port: return 7
        case .piece(_, _, let data): return 13 + data.readableBytes
        case .extended(_, let payload): return 6 + payload.readableBytes
        }
    }
}
