/// Why a datagram is not a uTP packet we accept. Decoding never allocates from an
/// untrusted length: every length is checked against the bytes actually present.
public enum UTPPacketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer than the 20 bytes of the fixed header.
    case truncatedHeader(length: Int)
    /// The low nibble of the first byte is not 1.
    case unsupportedVersion(UInt8)
    /// The high nibble of the first byte is not one of the five packet types.
    case unknownType(UInt8)
    /// An extension's type/length pair or its body runs past the end of the datagram.
    case truncatedExtension(type: UInt8)
    /// A selective ACK whose length is zero, not a multiple of 4, or over the bound.
    case invalidSelectiveAckLength(Int)
    /// Two selective ACK extensions in one packet.
    case duplicateSelectiveAck
    /// More chained extensions than any implementation sends.
    case tooManyExtensions

    public var description: String {
        switch self {
        case .truncatedHeader(let length): return "uTP datagram of \(length) bytes is shorter than the 20-byte header"
        case .unsupportedVersion(let version): return "uTP version \(version) is not supported (only 1)"
        case .unknownType(let type): return "uTP packet type \(type) is unknown"
        case .truncatedExtension(let type): return "uTP extension \(type) runs past the end of the datagram"
        case .invalidSelectiveAckLength(let length):
            return "uTP selective ACK of \(length) bytes (must be a multiple of 4, 4...\(UTPSelectiveAck.maximumByteCount))"
        case .duplicateSelectiveAck: return "uTP packet carries two selective ACK extensions"
        case .tooManyExtensions: return "uTP packet chains more than \(UTPPacketCodec.maximumExtensionCount) extensions"
        }
    }
}
