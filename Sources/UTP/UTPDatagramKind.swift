/// What a datagram on the shared UDP port is, from its first byte alone (DESIGN §8): the DHT
/// and uTP share one socket, as with libtorrent's `utp_socket_manager`.
public enum UTPDatagramKind: Equatable, Sendable {
    /// A KRPC message: a bencoded dictionary starts with `d`.
    case krpc
    /// A uTP packet: `type << 4 | 1` with a known type (0...4).
    case utp
    /// Neither; drop it.
    case unknown

    /// Classifies a datagram by its first byte. `d` (0x64) has version nibble 4, so it can never
    /// be mistaken for a uTP header.
    public static func classify(firstByte: UInt8) -> UTPDatagramKind {
        if firstByte == UInt8(ascii: "d") { return .krpc }
        if firstByte & 0x0F == UTPHeader.version, UTPPacketType(rawValue: firstByte >> 4) != nil { return .utp }
        return .unknown
    }

    /// Classifies a whole datagram; an empty one is `.unknown`.
    public static func classify<Bytes: Collection<UInt8>>(_ datagram: Bytes) -> UTPDatagramKind {
        guard let first = datagram.first else { return .unknown }
        return classify(firstByte: first)
    }
}
