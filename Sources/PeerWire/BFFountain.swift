import Bencode
import NIOCore

/// The `bf_fountain` extension (BEP 10): RaptorQ repair symbols between BitFountain peers.
///
/// One piece is one RaptorQ source block of K = ⌈piece length / 16 KiB⌉ symbols
/// of T = 16,384 bytes (the last piece zero-padded to K·T); source symbol i is
/// the block at `begin = i·16384`, so stock peers serve source symbols through
/// ordinary requests. Over this extension a BitFountain peer asks for encoding
/// symbols by ESI (repair symbols have ESI ≥ K), chosen by the receiver:
///
///     {msg_type: 0, piece: P, esis: [e1, e2, …]}   request
///     {msg_type: 1, piece: P, esi: E} + T bytes     symbol
///     {msg_type: 2, piece: P}                        reject: none of the open
///                                                    requests for P will be served
///
/// Each message is a bencoded dictionary, followed by the raw symbol for
/// `symbol` (as BEP 9's ut_metadata does). A later `have` for P from the
/// requester tells the server it may drop what it still owes for P (there is
/// no cancel message: the piece is done, so the symbols are moot).
///
/// Every count from the wire is bounded here: the list length, each ESI, the
/// piece index and the payload length (exactly T).
public enum BFFountain {
    public static let extensionName = "bf_fountain"
    /// T: one symbol is one BitTorrent block.
    public static let symbolSize = blockSize
    /// ESIs are 24-bit (RFC 6330 FEC payload ID).
    public static let esiLimit: UInt32 = 1 << 24
    /// Most ESIs in one request; a receiver that wants more sends more requests.
    public static let maxESIsPerRequest = 512
    /// Longest bencoded header a message may have (a full request is ~5 KiB).
    static let maxHeaderLength = 64 + maxESIsPerRequest * 11

    public enum Message: Equatable, Sendable {
        case request(piece: Int, esis: [UInt32])
        /// `payload` is exactly `symbolSize` bytes, a slice of the receive buffer.
        case symbol(piece: Int, esi: UInt32, payload: ByteBuffer)
        case reject(piece: Int)
    }

    // MARK: Encoding

    /// The payload of an extended message carrying `message` (the symbol's bytes copied in).
    public static func encode(_ message: Message) -> ByteBuffer {
        switch message {
        case .request(let piece, let esis):
            let header = BValue.dict(["msg_type": 0, "piece": .integer(Int64(piece)),
                                      "esis": .list(esis.map { .integer(Int64($0)) })]).encoded
            return ByteBuffer(bytes: header)
        case .symbol(let piece, let esi, let payload):
            var out = ByteBuffer()
            writeSymbolHeader(piece: piece, esi: esi, to: &out)
            out.writeImmutableBuffer(payload)
            return out
        case .reject(let piece):
            return ByteBuffer(bytes: BValue.dict(["msg_type": 2, "piece": .integer(Int64(piece))]).encoded)
        }
    }

    /// Writes the bencoded header of a symbol message, the canonical encoding of
    /// `{esi: E, msg_type: 1, piece: P}`, and returns its length. It precedes
    /// every symbol served, so it is written directly rather than through a
    /// `BValue` dictionary (the numbers are small strings: no allocation).
    @discardableResult
    static func writeSymbolHeader(piece: Int, esi: UInt32, to out: inout ByteBuffer) -> Int {
        out.writeStaticString("d3:esii") + out.writeString(String(esi))
            + out.writeStaticString("e8:msg_typei1e5:piecei") + out.writeString(String(piece)) + out.writeStaticString("ee")
    }

    /// Everything of a symbol message before its T bytes: length prefix, extended
    /// message ID, the peer's ID for bf_fountain and the header. The hot upload
    /// path writes this, then the symbol as its own buffer (no copy).
    public static func writeSymbolPrefix(extensionID: UInt8, piece: Int, esi: UInt32, to out: inout ByteBuffer) {
        let lengthAt = out.writerIndex
        out.writeInteger(UInt32(0))  // set once the header's length is known
        out.writeInteger(PeerMessage.ID.extended.rawValue)
        out.writeInteger(extensionID)
        let header = writeSymbolHeader(piece: piece, esi: esi, to: &out)
        out.setInteger(UInt32(2 + header + symbolSize), at: lengthAt)
    }

    // MARK: Decoding

    /// Decodes the payload of an extended message sent under our bf_fountain ID.
    public static func decode(_ payload: ByteBuffer) throws(PeerWireError) -> Message {
        let decoded: (node: BNode, end: Int)?
        // Only the header is parsed; a symbol's bytes stay where they are.
        let headerWindow = min(payload.readableBytes, maxHeaderLength)
        decoded = payload.withUnsafeReadableBytes { bytes in
            try? BencodeDecoder(limits: BencodeLimits(maxDepth: 3, maxStringLength: 64))
                .decodePrefix(UnsafeRawBufferPointer(rebasing: bytes[0..<headerWindow]))
        }
        guard let (node, end) = decoded, node.isDictionary else {
            throw .badExtensionMessage("bf_fountain: message does not start with a bencoded dictionary of at most \(maxHeaderLength) bytes")
        }
        guard let type = node["msg_type"]?.integer, let rawPiece = node["piece"]?.integer,
              rawPiece >= 0, rawPiece <= Int64(Int32.max) else {
            throw .badExtensionMessage("bf_fountain: message lacks msg_type or a valid piece")
        }
        let piece = Int(rawPiece)
        let trailing = payload.readableBytes - end
        switch type {
        case 0:
            guard trailing == 0, let list = node["esis"]?.list else {
                throw .badExtensionMessage("bf_fountain: request without an esis list")
            }
            guard !list.isEmpty, list.count <= maxESIsPerRequest else {
                throw .badExtensionMessage("bf_fountain: request for \(list.count) symbols (1 to \(maxESIsPerRequest) allowed)")
            }
            var esis: [UInt32] = []
            esis.reserveCapacity(list.count)
            for item in list {
                guard let esi = item.integer, esi >= 0, esi < Int64(esiLimit) else {
                    throw .badExtensionMessage("bf_fountain: ESI outside 0..<2^24")
                }
                esis.append(UInt32(esi))
            }
            return .request(piece: piece, esis: esis)
        case 1:
            guard let esi = node["esi"]?.integer, esi >= 0, esi < Int64(esiLimit) else {
                throw .badExtensionMessage("bf_fountain: symbol without a valid esi")
            }
            guard trailing == symbolSize else {
                throw .badExtensionMessage("bf_fountain: symbol of \(trailing) bytes, expected \(symbolSize)")
            }
            return .symbol(piece: piece, esi: UInt32(esi), payload: payload.getSlice(at: payload.readerIndex + end, length: trailing)!)
        case 2:
            guard trailing == 0 else { throw .badExtensionMessage("bf_fountain: reject with trailing bytes") }
            return .reject(piece: piece)
        default:
            throw .badExtensionMessage("bf_fountain: unknown msg_type \(type)")
        }
    }
}
