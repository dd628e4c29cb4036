import Identity

/// PCP (RFC 6887) MAP messages, NAT-PMP's successor on the same UDP port
/// 5351: a 24-byte common header and the 36-byte MAP body, every address a
/// 16-byte field (IPv4 as `::ffff:a.b.c.d`). Only MAP is spoken; options in
/// a response are skipped. A datagram is refused before it is read when its
/// size is out of RFC bounds.
public enum PCPRequest {
    public static let version: UInt8 = 2
    static let mapOpcode: UInt8 = 1

    /// MAP `internalPort` for `lifetime` seconds (0 deletes it), from our LAN
    /// address `client` (the server checks it against the datagram's source),
    /// under `nonce` (12 bytes: the server answers with it, and only the
    /// holder of the nonce may renew or delete the mapping).
    public static func map(_ transport: NATPMPTransport, internalPort: UInt16, suggestedExternalPort: UInt16,
                           lifetime: UInt32, client: IPAddress, nonce: [UInt8]) -> [UInt8] {
        precondition(nonce.count == 12, "a PCP nonce is 96 bits")
        var out: [UInt8] = [version, mapOpcode, 0, 0]
        out.append(big: lifetime)
        out += pcpField(client)
        out += nonce
        out += [transport.ipProtocol, 0, 0, 0]
        out.append(big: internalPort)
        out.append(big: suggestedExternalPort)
        // No preference for the external address: the IPv4 or IPv6 unspecified address.
        out += client.family == .v4 ? pcpField(.v4(0)) : [UInt8](repeating: 0, count: 16)
        return out
    }

    /// The 16-byte form of an address: IPv4 mapped into IPv6.
    static func pcpField(_ ip: IPAddress) -> [UInt8] {
        switch ip {
        case .v4: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + ip.bytes
        case .v6: ip.bytes
        }
    }
}

extension NATPMPTransport {
    /// The IANA protocol number PCP names it by.
    var ipProtocol: UInt8 { self == .tcp ? 6 : 17 }

    init?(ipProtocol: UInt8) {
        switch ipProtocol {
        case 6: self = .tcp
        case 17: self = .udp
        default: return nil
        }
    }
}

/// RFC 6887 §7.4 result codes.
public enum PCPResult: Equatable, Sendable, CustomStringConvertible {
    case success
    case unsupportedVersion
    case notAuthorized
    case malformedRequest
    case unsupportedOpcode
    case networkFailure
    case noResources
    case unsupportedProtocol
    case userExceededQuota
    case cannotProvideExternal
    case addressMismatch
    case other(UInt8)

    init(code: UInt8) {
        switch code {
        case 0: self = .success
        case 1: self = .unsupportedVersion
        case 2: self = .notAuthorized
        case 3: self = .malformedRequest
        case 4: self = .unsupportedOpcode
        case 7: self = .networkFailure
        case 8: self = .noResources
        case 9: self = .unsupportedProtocol
        case 10: self = .userExceededQuota
        case 11: self = .cannotProvideExternal
        case 12: self = .addressMismatch
        default: self = .other(code)
        }
    }

    public var description: String {
        switch self {
        case .success: "success"
        case .unsupportedVersion: "unsupported version"
        case .notAuthorized: "not authorized (port mapping switched off on the router)"
        case .malformedRequest: "malformed request"
        case .unsupportedOpcode: "unsupported opcode"
        case .networkFailure: "network failure (the router has no external address yet)"
        case .noResources: "out of resources"
        case .unsupportedProtocol: "unsupported protocol"
        case .userExceededQuota: "mapping quota exceeded"
        case .cannotProvideExternal: "cannot provide the external port"
        case .addressMismatch: "address mismatch (a NAT between us and the router?)"
        case .other(let code): "result code \(code)"
        }
    }
}

public enum PCPResponse: Equatable, Sendable {
    case mapped(NATPMPTransport, nonce: [UInt8], epoch: UInt32, internalPort: UInt16, externalPort: UInt16,
                externalAddress: IPAddress, lifetime: UInt32)
    /// Any non-zero result. For `unsupportedVersion` `version` is the highest the server speaks.
    case failed(result: PCPResult, version: UInt8, nonce: [UInt8]?, transport: NATPMPTransport?, internalPort: UInt16?,
                epoch: UInt32, lifetime: UInt32)

    public enum ParseError: Error, Equatable {
        case wrongSize(Int)
        case notAResponse
        case unsupportedOpcode(UInt8)
        case unknownProtocol(UInt8)
    }

    /// RFC 6887 §7: at most 1100 bytes, a multiple of 4.
    public static let maxSize = 1100

    public init(parsing bytes: [UInt8]) throws(ParseError) {
        guard bytes.count >= 24, bytes.count <= Self.maxSize, bytes.count % 4 == 0 else { throw .wrongSize(bytes.count) }
        guard bytes[1] & 0x80 != 0 else { throw .notAResponse }
        let version = bytes[0], opcode = bytes[1] & 0x7F
        let result = PCPResult(code: bytes[3])
        let lifetime: UInt32 = bytes.big(at: 4), epoch: UInt32 = bytes.big(at: 8)
        // An unsupported-version answer need not carry the opcode's body.
        if result == .unsupportedVersion || version != PCPRequest.version {
            self = .failed(result: .unsupportedVersion, version: version, nonce: nil, transport: nil, internalPort: nil,
                           epoch: epoch, lifetime: lifetime)
            return
        }
        guard opcode == PCPRequest.mapOpcode else { throw .unsupportedOpcode(opcode) }
        guard bytes.count >= 60 else { throw .wrongSize(bytes.count) }
        let nonce = Array(bytes[24..<36])
        let internalPort: UInt16 = bytes.big(at: 40)
        guard let transport = NATPMPTransport(ipProtocol: bytes[36]) else { throw .unknownProtocol(bytes[36]) }
        guard result == .success else {
            self = .failed(result: result, version: version, nonce: nonce, transport: transport, internalPort: internalPort,
                           epoch: epoch, lifetime: lifetime)
            return
        }
        let field = Array(bytes[44..<60])
        let external: IPAddress = field.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
            ? .v4(field.big(at: 12)) : IPAddress(bytes: field)!
        self = .mapped(transport, nonce: nonce, epoch: epoch, internalPort: internalPort, externalPort: bytes.big(at: 42),
                       externalAddress: external, lifetime: lifetime)
    }
}
