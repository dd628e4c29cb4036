/// Where a peer listens: IP and TCP port, as a plain value. DHT `values`,
/// PEX lists and the dialer all speak it; strings appear only at the edges
/// (the command line, magnet links, logs).
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public let ip: IPAddress
    public let port: UInt16

    public init(ip: IPAddress, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// From compact form: 4 or 16 address bytes, then the port, big-endian (BEP 5, BEP 11, BEP 23).
    public init?<C: Collection>(compact bytes: C) where C.Element == UInt8, C.Index == Int {
        guard bytes.count == 6 || bytes.count == 18,
              let ip = IPAddress(bytes: bytes.prefix(bytes.count - 2)) else { return nil }
        let high = bytes[bytes.endIndex - 2], low = bytes[bytes.endIndex - 1]
        self.init(ip: ip, port: UInt16(high) << 8 | UInt16(low))
    }

    /// Parses an IP literal (no host names) and a port.
    public init?(host: String, port: UInt16) {
        guard let ip = IPAddress(host) else { return nil }
        self.init(ip: ip, port: port)
    }

    public func appendCompact(to out: inout [UInt8]) {
        ip.append(to: &out)
        out.append(UInt8(port >> 8))
        out.append(UInt8(port & 0xFF))
    }

    /// `1.2.3.4:6881` or `[::1]:6881`.
    public var description: String {
        ip.family == .v6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
