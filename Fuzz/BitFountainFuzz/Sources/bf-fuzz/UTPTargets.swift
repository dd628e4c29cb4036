import NIOCore
import UTP

/// uTP (BEP 29): the header codec, and a socket manager fed a stream of datagrams.
enum UTPTarget {
    /// Whatever decodes re-encodes to a datagram that decodes to the same packet (unknown
    /// extensions dropped), and the first-byte demultiplexer agrees with the decoder.
    @Sendable static func header(_ bytes: [UInt8]) {
        guard let packet = try? UTPPacketCodec.decode(ByteBuffer(bytes: bytes)) else { return }
        require(UTPDatagramKind.classify(bytes) == .utp, "a decodable packet is not classified as uTP")
        let encoded = UTPPacketCodec.encode(packet)
        require(encoded.readableBytes == UTPPacketCodec.encodedLength(packet), "encoded length differs")
        guard let again = try? UTPPacketCodec.decode(encoded) else {
            require(false, "a re-encoded packet does not decode")
            return
        }
        require(again == packet, "packet changed in a round trip: \(packet) → \(again)")
    }

    /// The input is a sequence of datagrams (`[source u8][length u16 BE][bytes]`, the source
    /// its low 3 bits one of 8 addresses, its high 5 bits the milliseconds that pass first) into one socket manager that
    /// also has a connection of its own. Invariants: state stays within the configured bounds,
    /// every datagram it sends is well-formed uTP, and nothing traps.
    @Sendable static func stream(_ bytes: [UInt8]) {
        var configuration = UTPSocketManager<Int>.Configuration()
        configuration.maximumConnections = 16
        configuration.maximumHalfOpenConnections = 4
        var manager = UTPSocketManager<Int>(configuration: configuration)
        var random = FuzzRandom(state: 0x9E37_79B9_7F4A_7C15)
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var outputs = [manager.connect(to: 0, now: now, random: &random).output]
        var input = ByteBuffer(bytes: bytes)
        while let source = input.readInteger(as: UInt8.self), let length = input.readInteger(as: UInt16.self) {
            guard let datagram = input.readSlice(length: min(Int(length), input.readableBytes)) else { break }
            now = now + .milliseconds(Int64(source >> 3))
            outputs.append(manager.receive(datagram, from: Int(source & 7), now: now, random: &random))
            outputs.append(manager.tick(now: now))
            require(manager.connectionCount <= configuration.maximumConnections, "\(manager.connectionCount) connections")
            require(manager.halfOpenCount <= configuration.maximumHalfOpenConnections, "\(manager.halfOpenCount) half-open")
            for output in outputs {
                for sent in output.datagrams {
                    require((try? UTPPacketCodec.decode(sent.bytes)) != nil, "sent a datagram that does not decode")
                }
            }
            outputs.removeAll(keepingCapacity: true)
        }
    }
}

/// SplitMix64: deterministic, so a crash replays from its input alone.
struct FuzzRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
