import Crypto
import Metainfo
import NIOCore
import PeerWire

/// BEP 9: ut_metadata messages, and the assembler that turns pieces from
/// peers into a verified info dictionary.
enum MetadataTarget {
    @Sendable static func messages(_ bytes: [UInt8]) {
        guard let message = try? UTMetadata.decode(ByteBuffer(bytes: bytes)) else { return }
        if case .data(_, let total, let payload) = message {
            require(payload.count < bytes.count, "payload of \(payload.count) from \(bytes.count) bytes")
            require(total > 0 && total <= UTMetadata.maxMetadataSize, "total_size \(total)")
        }
        let again = try? UTMetadata.decode(ByteBuffer(bytes: UTMetadata.encode(message)))
        require(again == message, "ut_metadata message changed")
    }

    /// The input is an info dictionary arriving from peers (in an order the input
    /// picks): the assembler completes exactly when the bytes hash to the infohash
    /// and `TorrentInfo` accepts them, and a forged piece is always caught.
    @Sendable static func assembler(_ bytes: [UInt8]) {
        guard let info = bytes.first, bytes.count > 1 else { return }
        let dictionary = Array(bytes.dropFirst())
        let infoHash = InfoHash(bytes: Array(Insecure.SHA1.hash(data: dictionary)))!
        guard var assembler = try? MetadataAssembler(infoHash: infoHash, size: dictionary.count) else { return }
        let pieces = assembler.pieceCount
        let forged = info & 0x80 != 0
        var outcome: MetadataAssembler.Outcome = .incomplete
        for step in 0..<pieces {
            let piece = (step + Int(info & 0x7F)) % pieces
            let start = piece * UTMetadata.pieceSize
            var payload = Array(dictionary[start..<min(dictionary.count, start + UTMetadata.pieceSize)])
            if forged, step == 0 { payload[0] ^= 1 }
            do {
                outcome = try assembler.add(piece: piece, totalSize: dictionary.count, payload: payload, from: UInt64(piece))
            } catch {
                require(false, "a well-formed piece was refused: \(error)")
            }
            if step < pieces - 1, case .incomplete = outcome {} else if step < pieces - 1 {
                require(false, "finished before every piece was in")
            }
        }
        let valid = (try? TorrentInfo(rawBytes: dictionary)) != nil
        switch outcome {
        case .complete(let torrent):
            require(!forged && valid && torrent.infoHash == infoHash, "completed a forged or invalid dictionary")
        case .rejected(_, let senders):
            require(forged || !valid, "rejected a genuine, valid dictionary")
            if forged { require(senders.contains(UInt64((Int(info & 0x7F)) % pieces)), "the forger was not blamed") }
        case .incomplete:
            require(false, "incomplete after every piece")
        }
    }
}
