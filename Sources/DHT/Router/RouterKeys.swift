import Identity

/// How the router tells requesters apart: by IP for public addresses (by /64
/// for IPv6), by IP and port for local ones (only served with
/// `--allow-private`, where many nodes share one test host). The ring, the
/// requester table and the rate limiter agree on this.
enum RouterKeys {
    @inline(__always)
    static func hash(_ address: NodeAddress, with hasher: SipHash) -> UInt64 {
        switch address.ip {
        case .v4(let value):
            return hasher.hash(UInt64(value) | (address.ip.isLocal ? UInt64(address.port) << 32 | 1 << 48 : 0), 0, 0, count: 1)
        case .v6(let high, let low):
            return address.ip.isLocal ? hasher.hash(high, low, UInt64(address.port) | 1 << 16) : hasher.hash(high, 0, 0, count: 1)
        }
    }

    /// The address the per-IP rate limiter charges: the IP, or for local
    /// addresses a value that also carries the port.
    @inline(__always)
    static func limiterKey(_ address: NodeAddress) -> IPAddress {
        guard address.ip.isLocal else {
            if case .v6(let high, _) = address.ip { return .v6(high, 0) }
            return address.ip
        }
        switch address.ip {
        case .v4(let value): return .v6(0xFFFF_FFFF_0000_0000 | UInt64(address.port) << 16, UInt64(value))
        case .v6(let high, let low): return .v6(high ^ UInt64(address.port) << 48, low)
        }
    }
}
