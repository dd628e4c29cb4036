import Identity

/// Which source addresses a public router serves. Bogons (addresses that
/// are never the source of real Internet traffic: private, loopback,
/// link-local, shared CGN space, documentation and benchmark ranges,
/// multicast, reserved) are dropped unless the router runs with
/// `--allow-private` (tests, LANs). Unroutable sources (0/8, multicast,
/// broadcast, the unspecified address) and port 0 are dropped always:
/// nothing could be sent back to them.
public enum RouterAddressFilter {
    public enum Verdict: Sendable, Equatable {
        case serve
        /// Private or reserved: only with `--allow-private`.
        case bogon
        /// No reply could ever reach it.
        case unroutable
    }

    @inline(__always)
    public static func classify(_ address: NodeAddress, allowPrivate: Bool) -> Verdict {
        if address.port == 0 || address.ip.isUnroutable { return .unroutable }
        if !allowPrivate, isBogon(address.ip) { return .bogon }
        return .serve
    }

    /// Private and reserved ranges (RFC 6890 and its successors).
    public static func isBogon(_ ip: IPAddress) -> Bool {
        switch ip {
        case .v4(let value):
            if ip.isLocal { return true }                           // 10/8, 172.16/12, 192.168/16, 169.254/16, 127/8
            if value >> 22 == 0x191 { return true }                 // 100.64/10 shared address space
            if value >> 8 == 0xC0_0000 || value >> 8 == 0xC0_0002 { return true } // 192.0.0/24, 192.0.2/24
            if value >> 17 == 0x6309 { return true }                // 198.18/15 benchmarking
            if value >> 8 == 0xC6_3364 || value >> 8 == 0xCB_0071 { return true } // 198.51.100/24, 203.0.113/24
            return false
        case .v6(let high, let low):
            if ip.isLocal { return true }                           // ::1, fc00::/7, fe80::/10
            if high >> 32 == 0x2001_0DB8 { return true }            // documentation
            if high == 0, low >> 32 == 0 { return true }            // IPv4-compatible and ::/96
            if high >> 61 != 1 { return true }                      // outside global unicast 2000::/3
            return false
        }
    }
}
