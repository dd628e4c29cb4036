import Crypto
import Metainfo

/// Collects the pieces of an info dictionary from peers (BEP 9) and hands it
/// over only once it hashes to the infohash and parses as a safe torrent.
///
/// Sizes are bounded before any allocation; each piece must have exactly the
/// length its index implies. A dictionary that fails the hash check is
/// discarded whole, and the peers that sent it are reported so they can be dropped.
public struct MetadataAssembler: Sendable {
    public let infoHash: InfoHash
    public let size: Int
    private var buffer: [UInt8]
    private var received: [Bool]
    /// Which peer (opaque key) sent each piece, to blame on a hash mismatch.
    private var senders: [UInt64?]

    public enum Outcome: Sendable {
        case incomplete
        case complete(TorrentInfo)
        /// The pieces did not hash to the infohash, or the dictionary was unsafe/invalid.
        case rejected(reason: String, senders: Set<UInt64>)
    }

    public init(infoHash: InfoHash, size: Int) throws(PeerWireError) {
        guard size > 0, size <= UTMetadata.maxMetadataSize else {
            throw .badMetadata("metadata_size \(size) is outside 1…\(UTMetadata.maxMetadataSize)")
        }
        self.infoHash = infoHash
        self.size = size
        buffer = [UInt8](repeating: 0, count: size)
        let count = UTMetadata.pieceCount(forSize: size)
        received = [Bool](repeating: false, count: count)
        senders = [UInt64?](repeating: nil, count: count)
    }

    public var pieceCount: Int { received.count }
    public var missingPieces: [Int] { received.indices.filter { !received[$0] } }

    public func expectedLength(ofPiece piece: Int) -> Int {
        min(UTMetadata.pieceSize, size - piece * UTMetadata.pieceSize)
    }

    /// Stores one piece. Returns `.complete` once every piece is in and the whole verifies.
    public mutating func add(piece: Int, totalSize: Int, payload: [UInt8], from sender: UInt64) throws(PeerWireError) -> Outcome {
        guard totalSize == size else { throw .badMetadata("total_size \(totalSize) differs from metadata_size \(size)") }
        guard piece >= 0, piece < pieceCount else { throw .badMetadata("piece \(piece) out of range") }
        guard payload.count == expectedLength(ofPiece: piece) else {
            throw .badMetadata("piece \(piece) has \(payload.count) bytes, expected \(expectedLength(ofPiece: piece))")
        }
        let start = piece * UTMetadata.pieceSize
        buffer.replaceSubrange(start..<(start + payload.count), with: payload)
        received[piece] = true
        senders[piece] = sender
        guard !received.contains(false) else { return .incomplete }
        return finish()
    }

    private mutating func finish() -> Outcome {
        let blamed = Set(senders.compactMap { $0 })
        defer {
            // Whatever the outcome, start over if it is asked for again.
            received = received.map { _ in false }
            senders = senders.map { _ in nil }
        }
        guard Array(Insecure.SHA1.hash(data: buffer)) == infoHash.bytes else {
            return .rejected(reason: "the metadata does not hash to the infohash", senders: blamed)
        }
        do {
            return .complete(try TorrentInfo(rawBytes: buffer))
        } catch {
            // It hashed correctly, so whoever published it made it this way: no peer is to blame.
            return .rejected(reason: "the torrent's metadata is unusable: \(error)", senders: [])
        }
    }
}
