/// Ways a peer can break the wire protocol. Each one ends the connection.
public enum PeerWireError: Error, Equatable, Sendable, CustomStringConvertible {
    case badHandshake(String)
    case messageTooLong(length: Int, limit: Int)
    case malformed(id: UInt8, reason: String)
    case badExtensionMessage(String)
    case badMetadata(String)

    public var description: String {
        switch self {
        case .badHandshake(let reason): return "bad handshake: \(reason)"
        case .messageTooLong(let length, let limit): return "message of \(length) bytes exceeds the limit of \(limit)"
        case .malformed(let id, let reason): return "malformed message \(id): \(reason)"
        case .badExtensionMessage(let reason): return "bad extension message: \(reason)"
        case .badMetadata(let reason): return "bad metadata: \(reason)"
        }
    }
}
