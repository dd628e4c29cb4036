import Identity
import NIOCore

/// BEP 55 holepunching (`ut_holepunch`): a peer behind a NAT asks a relay it
/// is connected to (`rendezvous`) to introduce it to another peer the relay
/// is connected to; the relay sends each of the two a `connect` naming the
/// other, and both dial at once so that each NAT sees an outgoing flow before
/// the other's packets arrive. The relay answers a request it cannot serve
/// with an `error`.
///
/// Wire form (binary, not bencoded): `[type u8][addr type u8][address 4|16]
/// [port u16 BE][error u32 BE]`: 12 bytes for IPv4, 24 for IPv6. We write the
/// error field, zero, in every message type, as BEP 55 shows it; libtorrent
/// leaves it out of `rendezvous` and `connect`, so it is optional there.
public enum UTHolepunch {
    public static let extensionName = "ut_holepunch"

    /// BEP 55's error codes.
    public enum ErrorCode: Equatable, Hashable, Sendable, CustomStringConvertible {
        /// The target endpoint is not valid.
        case noSuchPeer
        /// The relay is not connected to the target.
        case notConnected
        /// The target does not support holepunch.
        case noSupport
        /// The target endpoint is the relay itself.
        case noSelf
        /// A code BEP 55 does not define: kept, so that a newer peer's error is not a parse failure.
        case other(UInt32)

        public init(code: UInt32) {
            switch code {
            case 1: self = .noSuchPeer
            case 2: self = .notConnected
            case 3: self = .noSupport
            case 4: self = .noSelf
            default: self = .other(code)
            }
        }

        public var code: UInt32 {
            switch self {
            case .noSuchPeer: 1
            case .notConnected: 2
            case .noSupport: 3
            case .noSelf: 4
            case .other(let code): code
            }
        }

        public var description: String {
            switch self {
            case .noSuchPeer: "no such peer"
            case .notConnected: "the relay is not connected to it"
            case .noSupport: "it does not support holepunch"
            case .noSelf: "it is the relay itself"
            case .other(let code): "error code \(code)"
            }
        }
    }

    public enum Message: Equatable, Hashable, Sendable {
        /// To a relay: please introduce me to `target`.
        case rendezvous(PeerAddress)
        /// From a relay: dial `peer` now (it is dialling you).
        case connect(PeerAddress)
        /// From a relay: `target` cannot be introduced, and why.
        case error(PeerAddress, ErrorCode)

        public var address: PeerAddress {
            switch self {
            case .rendezvous(let address), .connect(let address), .error(let address, _): address
            }
        }
    }

    public static func encode(_ message: Message) -> [UInt8] {
        let (type, address, error): (UInt8, PeerAddress, UInt32) = switch message {
        case .rendezvous(let address): (0, address, 0)
        case .connect(let address): (1, address, 0)
        case .error(let address, let code): (2, address, code.code)
        }
        var out: [UInt8] = [type, address.ip.family == .v4 ? 0 : 1]
        address.ip.append(to: &out)
        out += [UInt8(address.port >> 8), UInt8(address.port & 0xFF)]
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: error >> UInt32(shift))) }
        return out
    }

    /// Decodes one message strictly: the length must be exactly what the
    /// address type says (a trailing byte or a short address is an error, as
    /// an IPv4 type with 16 address bytes is), the message and address types
    /// must be known, and a port of 0 names nobody. Nothing is read before
    /// the length is checked against the type.
    public static func decode(_ payload: ByteBuffer) throws(PeerWireError) -> Message {
        let bytes = payload.readableBytesView
        guard bytes.count >= 2 else { throw .badExtensionMessage("ut_holepunch message of \(bytes.count) bytes") }
        let start = bytes.startIndex
        let type = bytes[start], addressType = bytes[start + 1]
        let addressLength: Int
        switch addressType {
        case 0: addressLength = 4
        case 1: addressLength = 16
        default: throw .badExtensionMessage("ut_holepunch address type \(addressType)")
        }
        // libtorrent writes the error field only in `error` messages (8 bytes for an IPv4
        // rendezvous or connect, not 12): both lengths are BEP 55 as clients speak it.
        let withCode = 2 + addressLength + 2 + 4
        let hasCode = bytes.count == withCode
        guard hasCode || (bytes.count == withCode - 4 && type != 2) else {
            throw .badExtensionMessage("ut_holepunch message of \(bytes.count) bytes for type \(type), address type \(addressType) (\(withCode) expected)")
        }
        let addressStart = start + 2
        guard let ip = IPAddress(bytes: bytes[addressStart..<addressStart + addressLength]) else {
            throw .badExtensionMessage("ut_holepunch address")
        }
        let portAt = addressStart + addressLength
        let port = UInt16(bytes[portAt]) << 8 | UInt16(bytes[portAt + 1])
        guard port != 0 else { throw .badExtensionMessage("ut_holepunch port 0") }
        let code = hasCode ? bytes[(portAt + 2)..<(portAt + 6)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : 0
        let address = PeerAddress(ip: ip, port: port)
        switch type {
        case 0: return .rendezvous(address)
        case 1: return .connect(address)
        case 2: return .error(address, ErrorCode(code: code))
        default: throw .badExtensionMessage("ut_holepunch message type \(type)")
        }
    }
}
