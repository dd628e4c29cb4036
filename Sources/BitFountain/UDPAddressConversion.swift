import DHT
import Identity
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NIO socket addresses ↔ the plain `PeerAddress` (a DHT `NodeAddress` too),
/// without going through strings (this runs for every datagram and connection).
extension PeerAddress {
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            self.init(ip: .v4(UInt32(bigEndian: v4.address.sin_addr.s_addr)), port: UInt16(bigEndian: v4.address.sin_port))
        case .v6(let v6):
            guard var ip = withUnsafeBytes(of: v6.address.sin6_addr, { IPAddress(bytes: $0) }) else { return nil }
            // An IPv4-mapped address (::ffff:a.b.c.d) is really IPv4.
            if case .v6(let high, let low) = ip, high == 0, low >> 32 == 0xFFFF { ip = .v4(UInt32(truncatingIfNeeded: low)) }
            self.init(ip: ip, port: UInt16(bigEndian: v6.address.sin6_port))
        default:
            return nil
        }
    }

    var socketAddress: SocketAddress {
        switch ip {
        case .v4(let value):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = value.bigEndian
            return SocketAddress(address, host: "")
        case .v6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            let bytes = ip.bytes
            withUnsafeMutableBytes(of: &address.sin6_addr) { raw in
                for index in 0..<16 { raw[index] = bytes[index] }
            }
            return SocketAddress(address, host: "")
        }
    }
}
