import Bencode
import NIOCore

/// BEP 9: exchanging the info dictionary in 16 KiB pieces over the extension protocol.
public enum UTMetadata {
    public static let extensionName = "ut_metadata"
    public static let pieceSize = 16_384
    /// Largest info dictionary we fetch from peers; far above any real torrent.
    public static let maxMetadataSize = 64 << 20

    public enum Message: Equatable, Sendable {
        case request(piece: Int)
        case data(piece: Int, totalSize: Int, payload: [UInt8])
        case reject(piece: Int)
    }

    /// Number of 16 KiB pieces for a dictionary of `size` bytes.
    public static func pieceCount(forSize size: Int) -> Int { (size + pieceSize - 1) / pieceSize }

    public static func encode(_ message: Message) -> [UInt8] {
        switch message {
        case .request(let piece):
            return BValue.dict(["msg_type": 0, "piece": .integer(Int64(piece))]).encoded
        case .data(let piece, let totalSize, let payload):
            var out = BValue.dict(["msg_type": 1, "piece": .integer(Int64(piece)), "total_size": .integer(Int64(totalSize))]).encoded
            out += payload
            return out
        case .reject(let piece):
            return BValue.dict(["msg_type": 2, "piece": .integer(Int64(piece))]).encoded
        }
    }

    /// Decodes a message: a bencoded dictionary, followed by the raw piece for `data`.
    public static func decode(_ payload: ByteBuffer) throws(PeerWireError) -> Message {
        let bytes = Array(payload.readableBytesView)
        let node: BNode, end: Int
        do {
            (node, end) = try BencodeDecoder(limits: BencodeLimits(maxDepth: 4, maxStringLength: 1024)).decodePrefix(bytes)
        } catch {
            throw .badMetadata("message is not bencoded: \(error)")
        }
        guard let type = node["msg_type"]?.integer, let piece = node["piece"]?.integer,
              piece >= 0, piece < Int64(pieceCount(forSize: maxMetadataSize)) else {
            throw .badMetadata("message lacks msg_type or a valid piece")
        }
        switch type {
        case 0:
            return .request(piece: Int(piece))
        case 1:
            guard let total = node["total_size"]?.integer, total > 0, total <= Int64(maxMetadataSize) else {
                throw .badMetadata("data message without a valid total_size")
            }
            return .data(piece: Int(piece), totalSize: Int(total), payload: Array(bytes[end...]))
        case 2:
            return .reject(piece: Int(piece))
        default:
            throw .badMetadata("unknown msg_type \(type)")
        }
    }
}
