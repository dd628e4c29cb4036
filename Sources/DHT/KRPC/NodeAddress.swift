import Identity
import Metainfo

/// A DHT node's UDP endpoint is the same IP-and-port value the swarm dials:
/// one type (`PeerAddress`, in Identity), named for what it means here.
public typealias NodeAddress = PeerAddress

extension PeerAddress {
    /// Parses `1.2.3.4:6881` or `[::1]:6881` (numeric addresses only; `HostPort` does the splitting).
    /// For the command line's edge: everything past it carries the typed value.
    public init?(_ text: String) {
        guard let hostPort = try? HostPort(parsing: text), let ip = IPAddress(hostPort.host) else { return nil }
        self.init(ip: ip, port: hostPort.port)
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
