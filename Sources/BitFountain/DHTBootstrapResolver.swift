import DHT
import Identity
import Metainfo
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns bootstrap `host:port` entries into addresses. Numeric addresses are
/// used as they are; names go through getaddrinfo on NIO's thread pool so no
/// event loop or task thread blocks on DNS.
public enum DHTBootstrapResolver {
    public static func resolve(_ hosts: [HostPort], families: Set<IPAddress.Family> = [.v4, .v6]) async -> [NodeAddress] {
        var out: [NodeAddress] = []
        for host in hosts {
            if let ip = IPAddress(host.host) {
                if families.contains(ip.family) { out.append(NodeAddress(ip: ip, port: host.port)) }
                continue
            }
            let name = host.host
            let resolved = try? await NIOThreadPool.singleton.runIfActive { lookup(name) }
            for ip in resolved ?? [] where families.contains(ip.family) {
                let address = NodeAddress(ip: ip, port: host.port)
                if !out.contains(address) { out.append(address) }
            }
        }
        return out
    }

    private static func lookup(_ name: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let socketAddress = entry.pointee.ai_addr {
                switch Int32(entry.pointee.ai_family) {
                case AF_INET:
                    let v4 = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                    out.append(.v4(UInt32(bigEndian: v4.sin_addr.s_addr)))
                case AF_INET6:
                    var v6 = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                    if let ip = withUnsafeBytes(of: &v6.sin6_addr, { IPAddress(bytes: Array($0)) }) { out.append(ip) }
                default:
                    break
                }
            }
            cursor = entry.pointee.ai_next
        }
        return out
    }
}
