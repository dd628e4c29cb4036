import Identity

/// NAT-PMP (RFC 6886) messages: what a client sends to its gateway on UDP
/// 5351 and what comes back. Fixed-size big-endian records; a datagram of the
/// wrong size, version or opcode is refused before anything is read from it.
public enum NATPMPTransport: UInt8, Sendable, CaseIterable {
    case udp = 1
    case tcp = 2
}

public enum NATPMPRequest: Equatable, Sendable {
    /// Opcode 0: what is the gateway's external IPv4 address?
    case externalAddress
    /// Opcodes 1 (UDP) and 2 (TCP): map `internalPort` for `lifetime` seconds,
    /// preferably to `externalPort`. Lifetime 0 (with external port 0) deletes it.
    case map(NATPMPTransport, internalPort: UInt16, externalPort: UInt16, lifetime: UInt32)

    public static let serverPort: UInt16 = 5351

    public func encoded() -> [UInt8] {
        switch self {
        case .externalAddress:
            return [0, 0]
        case .map(let transport, let internalPort, let externalPort, let lifetime):
            var out: [UInt8] = [0, transport.rawValue, 0, 0]
            out.append(big: internalPort)
            out.append(big: externalPort)
            out.append(big: lifetime)
            return out
        }
    }
}

/// RFC 6886 §3.5 result codes.
public enum NATPMPResult: Equatable, Sendable, CustomStringConvertible {
    case success
    case unsupportedVersion
    case notAuthorized
    case networkFailure
    case outOfResources
    case unsupportedOpcode
    case other(UInt16)

    init(code: UInt16) {
        switch code {
        case 0: self = .success
        case 1: self = .unsupportedVersion
        case 2: self = .notAuthorized
        case 3: self = .networkFailure
        case 4: self = .outOfResources
        case 5: self = .unsupportedOpcode
        default: self = .other(code)
        }
    }

    public var description: String {
        switch self {
        case .success: "success"
        case .unsupportedVersion: "unsupported version"
        case .notAuthorized: "not authorized (port mapping switched off on the router)"
        case .networkFailure: "network failure (the router has no external address yet)"
        case .outOfResources: "out of resources"
        case .unsupportedOpcode: "unsupported opcode"
        case .other(let code): "result code \(code)"
        }
    }
}

public enum NATPMPResponse: Equatable, Sendable {
    case externalAddress(epoch: UInt32, address: IPAddress)
    case mapped(NATPMPTransport, epoch: UInt32, internalPort: UInt16, externalPort: UInt16, lifetime: UInt32)
    /// Any non-zero result; `request` is the opcode it answers (0, 1 or 2),
    /// `internalPort` the port a failed mapping was for, when the gateway said.
    case failed(request: UInt8, result: NATPMPResult, epoch: UInt32, internalPort: UInt16?)

    public enum ParseError: Error, Equatable {
        case wrongSize(Int)
        case notAResponse
        case unknownOpcode(UInt8)
    }

    /// Parses one datagram from the gateway.
    public init(parsing bytes: [UInt8]) throws(ParseError) {
        // The shortest (an error answer) is 8 bytes, the longest 16: bound before reading.
        guard bytes.count >= 8, bytes.count <= 16 else { throw .wrongSize(bytes.count) }
        guard bytes[0] == 0, bytes[1] >= 128 else { throw .notAResponse }
        let opcode = bytes[1] - 128
        let result = NATPMPResult(code: bytes.big(at: 2))
        let epoch: UInt32 = bytes.big(at: 4)
        if result != .success {
            guard opcode <= 2 else { throw .unknownOpcode(opcode) }
            let port: UInt16? = opcode != 0 && bytes.count == 16 ? bytes.big(at: 8) : nil
            self = .failed(request: opcode, result: result, epoch: epoch, internalPort: port)
            return
        }
        switch opcode {
        case 0:
            guard bytes.count == 12 else { throw .wrongSize(bytes.count) }
            self = .externalAddress(epoch: epoch, address: .v4(bytes.big(at: 8)))
        case 1, 2:
            guard bytes.count == 16, let transport = NATPMPTransport(rawValue: opcode) else { throw .wrongSize(bytes.count) }
            self = .mapped(transport, epoch: epoch, internalPort: bytes.big(at: 8), externalPort: bytes.big(at: 10),
                           lifetime: bytes.big(at: 12))
        default:
            throw .unknownOpcode(opcode)
        }
    }
}

extension [UInt8] {
    mutating func append<T: FixedWidthInteger>(big value: T) {
        for shift in stride(from: T.bitWidth - 8, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> T(shift))) }
    }

    func big<T: FixedWidthInteger>(at offset: Int) -> T {
        var value: T = 0
        for index in offset..<offset + T.bitWidth / 8 { value = value << 8 | T(self[index]) }
        return value
    }
}
