#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as a plain value: no allocation, cheap to hash.
/// BEP 42 derives node IDs from it, and the DHT keys tokens, rate limits and
/// routing-table slots by it.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// Host byte order: 127.0.0.1 is 0x7F000001.
    case v4(UInt32)
    /// The 16 bytes as two big-endian halves.
    case v6(UInt64, UInt64)

    public enum Family: Sendable, Hashable, CaseIterable {
        case v4, v6
        public var addressLength: Int { self == .v4 ? 4 : 16 }
    }

    public var family: Family {
        if case .v4 = self { return .v4 }
        return .v6
    }

    /// Parses a numeric IPv4 or IPv6 literal (no host names, no brackets).
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            guard let address = IPAddress(bytes: bytes) else { return nil }
            self = address
            return
        }
        return nil
    }

    /// From 4 or 16 bytes in network order.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            var high: UInt64 = 0, low: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
            self = .v6(high, low)
        default:
            return nil
        }
    }

    /// The address in network byte order (4 or 16 bytes).
    public var bytes: [UInt8] {
        var out = [UInt8]()
        append(to: &out)
        return out
    }

    public func append(to out: inout [UInt8]) {
        switch self {
        case .v4(let value):
            withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
        case .v6(let high, let low):
            withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { out.append(contentsOf: $0) }
        }
    }

    public var description: String {
        var storage = [CChar](repeating: 0, count: 64)
        var raw = bytes
        let family = self.family == .v4 ? AF_INET : AF_INET6
        let ok = raw.withUnsafeMutableBytes { source in
            storage.withUnsafeMutableBufferPointer { inet_ntop(family, source.baseAddress, $0.baseAddress, socklen_t(64)) != nil }
        }
        guard ok else { return "?" }
        return String(decoding: storage.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isLoopback: Bool {
        switch self {
        case .v4(let value): return value >> 24 == 127
        case .v6(let high, let low): return high == 0 && low == 1
        }
    }

    /// Private, loopback and link-local ranges: the addresses BEP 42 exempts
    /// from ID checks (10/8, 172.16/12, 192.168/16, 169.254/16, 127/8; for IPv6
    /// ::1, fc00::/7 and fe80::/10), and where per-/24 table limits make no sense.
    public var isLocal: Bool {
        switch self {
        case .v4(let value):
            return value >> 24 == 10 || value >> 20 == 0xAC1 || value >> 16 == 0xC0A8
                || value >> 16 == 0xA9FE || value >> 24 == 127
        case .v6(let high, _):
            return isLoopback || high >> 57 == 0x7E || high >> 54 == 0x3FA
        }
    }

    /// Addresses no DHT node can be reached at: unspecified, multicast,
    /// broadcast, 0/8 and 240/4 (IPv4), and the IPv6 equivalents.
    public var isUnroutable: Bool {
        switch self {
        case .v4(let value):
            return value >> 24 == 0 || value >> 28 >= 0xE
        case .v6(let high, let low):
            return (high == 0 && low == 0) || high >> 56 == 0xFF
        }
    }

    /// The network a node is counted in when limiting entries per network:
    /// the /24 for IPv4, the /64 for IPv6.
    public var networkPrefix: IPAddress {
        switch self {
        case .v4(let value): return .v4(value & 0xFFFF_FF00)
        case .v6(let high, _): return .v6(high, 0)
        }
    }
}
