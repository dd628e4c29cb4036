import Identity
import Metainfo

/// A UDP endpoint: IP address and port. BEP 5 "compact" form is the address
/// bytes followed by the port, big-endian: 6 bytes for IPv4, 18 for IPv6.
public struct NodeAddress: Hashable, Sendable, CustomStringConvertible {
    public var ip: IPAddress
    public var port: UInt16

    public init(ip: IPAddress, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// Parses `1.2.3.4:6881` or `[::1]:6881` (numeric addresses only; `HostPort` does the splitting).
    public init?(_ text: String) {
        guard let hostPort = try? HostPort(parsing: text), let ip = IPAddress(hostPort.host) else { return nil }
        self.init(ip: ip, port: hostPort.port)
    }

    public var family: IPAddress.Family { ip.family }

    public static func compactLength(_ family: IPAddress.Family) -> Int { family == .v4 ? 6 : 18 }

    /// Reads a compact address of `length` 6 or 18 at `offset`; the caller checks bounds.
    public init?(compact buffer: UnsafeRawBufferPointer, at offset: Int, length: Int) {
        switch length {
        case 6:
            var value: UInt32 = 0
            for index in 0..<4 { value = value << 8 | UInt32(buffer[offset + index]) }
            ip = .v4(value)
        case 18:
            var high: UInt64 = 0, low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(buffer[offset + index]) }
            for index in 8..<16 { low = low << 8 | UInt64(buffer[offset + index]) }
            ip = .v6(high, low)
        default:
            return nil
        }
        port = UInt16(buffer[offset + length - 2]) << 8 | UInt16(buffer[offset + length - 1])
    }

    public init?(compact bytes: [UInt8]) {
        guard let value = bytes.withUnsafeBytes({ NodeAddress(compact: $0, at: 0, length: $0.count) }) else { return nil }
        self = value
    }

    public func appendCompact(to out: inout [UInt8]) {
        ip.append(to: &out)
        out.append(UInt8(port >> 8))
        out.append(UInt8(truncatingIfNeeded: port))
    }

    public var compact: [UInt8] {
        var out: [UInt8] = []
        appendCompact(to: &out)
        return out
    }

    public var description: String {
        ip.family == .v6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// A node as BEP 5 lists it: ID and address (26 bytes compact for IPv4, 38 for IPv6).
public struct NodeContact: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var address: NodeAddress

    public init(id: NodeID, address: NodeAddress) {
        self.id = id
        self.address = address
    }

    public static func compactLength(_ family: IPAddress.Family) -> Int { family == .v4 ? 26 : 38 }

    public func appendCompact(to out: inout [UInt8]) {
        id.append(to: &out)
        address.appendCompact(to: &out)
    }

    public var description: String { "\(id.hex.prefix(12))…@\(address)" }
}
