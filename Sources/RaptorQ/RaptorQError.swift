/// Why a RaptorQ operation refused its input. Every message is meant for a person.
public enum RaptorQError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Parameters outside RFC 6330's limits (symbol size, block size, OTI fields).
    case invalidParameters(String)
    /// A packet or symbol that cannot belong to this object or block.
    case invalidPacket(String)
    /// The symbols at hand do not determine the block (too few, or dependent).
    case notEnoughSymbols(String)
    /// A decoder refused to store more symbols than its memory bound allows.
    case capacityExceeded(String)
    /// The caller's progress callback asked to stop.
    case cancelled

    public var description: String {
        switch self {
        case .invalidParameters(let message): "invalid RaptorQ parameters: \(message)"
        case .invalidPacket(let message): "invalid packet: \(message)"
        case .notEnoughSymbols(let message): "cannot decode: \(message)"
        case .capacityExceeded(let message): "decoder full: \(message)"
        case .cancelled: "cancelled"
        }
    }
}
