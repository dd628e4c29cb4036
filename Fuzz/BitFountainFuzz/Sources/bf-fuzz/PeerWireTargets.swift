import Metainfo
import NIOCore
import PeerWire

/// The peer wire protocol: the message stream, the handshake, BEP 10's
/// extension handshake and bf_fountain's messages.
enum PeerWireTarget {
    /// Messages cut from a stream re-encode to exactly the bytes they came from,
    /// and the decoder never consumes more than it was given.
    @Sendable static func messages(_ bytes: [UInt8]) {
        let decoder = PeerMessageDecoder(maxMessageLength: 1 << 16)
        var buffer = ByteBuffer(bytes: bytes)
        while true {
            let before = buffer.readerIndex
            let message: PeerMessage?
            do {
                message = try decoder.next(from: &buffer)
            } catch {
                return
            }
            guard let message else {
                require(buffer.readerIndex == before, "an incomplete message consumed bytes")
                return
            }
            let consumed = buffer.readerIndex - before
            require(consumed > 0 && buffer.readerIndex <= bytes.count, "consumed \(consumed) bytes")
            if case .unknown = message { continue }  // ignored as BEP 3 says: its payload is dropped, not kept
            var out = ByteBuffer()
            message.write(to: &out)
            require(Array(out.readableBytesView) == Array(bytes[before..<buffer.readerIndex]),
                    "\(message) does not re-encode to its \(consumed) bytes")
        }
    }

    @Sendable static func handshake(_ bytes: [UInt8]) {
        guard let handshake = try? Handshake(decoding: bytes) else { return }
        require(handshake.encoded == bytes, "handshake does not re-encode to its bytes")
    }

    /// Lenient parsing, but what it keeps survives a round trip.
    @Sendable static func extensionHandshake(_ bytes: [UInt8]) {
        guard let handshake = try? ExtensionHandshake(decoding: bytes) else { return }
        let encoded = handshake.encoded
        require(encoded.count <= ExtensionHandshake.maxEncodedLength, "encoding of \(encoded.count) bytes")
        guard let again = try? ExtensionHandshake(decoding: encoded) else {
            require(false, "re-encoded handshake does not decode")
            return
        }
        require(again == handshake, "extension handshake changed: \(handshake) → \(again)")
    }

    @Sendable static func fountain(_ bytes: [UInt8]) {
        guard let message = try? BFFountain.decode(ByteBuffer(bytes: bytes)) else { return }
        if case .symbol(_, _, let payload) = message {
            require(payload.readableBytes == BFFountain.symbolSize && payload.readableBytes <= bytes.count, "symbol of \(payload.readableBytes) bytes")
        }
        if case .request(_, let esis) = message {
            require(!esis.isEmpty && esis.count <= BFFountain.maxESIsPerRequest && esis.allSatisfy { $0 < BFFountain.esiLimit },
                    "request for \(esis.count) ESIs")
        }
        let encoded = BFFountain.encode(message)
        guard let again = try? BFFountain.decode(encoded) else {
            require(false, "re-encoded bf_fountain message does not decode")
            return
        }
        require(again == message, "bf_fountain message changed")
    }
}
