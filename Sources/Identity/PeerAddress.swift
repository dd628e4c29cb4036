/// An IP address and a port, as a plain value: the one address type from the
/// DHT (a node's UDP endpoint, a `values` entry) through peer discovery, the
/// address book and the torrent machine down to the dialer. Strings appear
/// only at the edges (the command line, magnet links, logs); the DHT calls it
/// `NodeAddress` where it means a node's UDP endpoint.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public var ip: IPAddress
    public var port: UInt16

    public init(ip: IPAddress, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    public var family: IPAddress.Family { ip.family }

    /// Bytes of the compact form: 6 for IPv4, 18 for IPv6.
    public static func compactLength(_ family: IPAddress.Family) -> Int { family == .v4 ? 6 : 18 }

    /// From compact form: 4 or 16 address bytes, then the port, big-endian (BEP 5, BEP 11, BEP 23).
    public init?<C: Collection>(compact bytes: C) where C.Element == UInt8, C.Index == Int {
        guard bytes.count == 6 || bytes.count == 18,
              let ip = IPAddress(bytes: bytes.prefix(bytes.count - 2)) else { return nil }
        let high = bytes[bytes.endIndex - 2], low = bytes[bytes.endIndex - 1]
        self.init(ip: ip, port: UInt16(high) << 8 | UInt16(low))
    }

    /// Reads a compact address of `length` 6 or 18 at `offset` without copying
    /// (the KRPC decoder's hot path); the caller checks bounds.
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

    /// Parses an IP literal (no host names) and a port.
    public init?(host: String, port: UInt16) {
        guard let ip = IPAddress(host) else { return nil }
        self.init(ip: ip, port: port)
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

    /// `1.2.3.4:6881` or `[::1]:6881`.
    public var description: String {
        ip.family == .v6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

extension PeerAddress {
    /// Whether this is our own listener: `port` on a loopback address or on one
    /// of `localIPs` (this host's interfaces). What a DHT lookup or a PEX
    /// message returns once our own announce has gone round; the one check
    /// the node and the torrent machine share.
    public func isOwnListener(port ownPort: UInt16?, localIPs: Set<IPAddress>) -> Bool {
        guard let ownPort, port == ownPort else { return false }
        return ip.isLoopback || localIPs.contains(ip)
    }
}
