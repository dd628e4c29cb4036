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

/// Turns bootstrap `host:port` entries into addresses (and, at the command
/// line's edge, `--peer` and magnet `x.pe` entries: past it only `PeerAddress` travels). Numeric addresses are
/// used as they are; names go through getaddrinfo on NIO's thread pool so no
/// event loop or task thread blocks on DNS, all of them at once so one slow
/// name does not hold up the others.
///
/// Every A and AAAA record of a name is kept, not just the first: a bootstrap
/// name often has several addresses and some may be dead (dht.transmissionbt.com
/// has had one dead address among live ones), and the DHT core queries every
/// seed it is given, so each extra address is another chance to get in.
public enum DHTBootstrapResolver {
    /// All addresses a name resolves to (empty when it does not resolve).
    public typealias Lookup = @Sendable (String) async -> [IPAddress]

    /// getaddrinfo, every result, off the calling thread.
    public static let systemLookup: Lookup = { name in
        (try? await NIOThreadPool.singleton.runIfActive { lookup(name) }) ?? []
    }

    /// The addresses of `hosts` in list order (each name's records in the order
    /// the resolver gave them), without duplicates, limited to `families`.
    public static func resolve(_ hosts: [HostPort], families: Set<IPAddress.Family> = [.v4, .v6],
                               lookup: @escaping Lookup = systemLookup) async -> [NodeAddress] {
        // Names only: numeric addresses need no lookup, and a list of them
        // returns without suspending (a one-off `dht` command's lookup starts
        // right after, and must find the bootstrap nodes already set).
        let names = Set(hosts.map(\.host).filter { IPAddress($0) == nil })
        var resolved: [String: [IPAddress]] = [:]
        if !names.isEmpty {
            resolved = await withTaskGroup(of: (String, [IPAddress]).self) { group in
                for name in names { group.addTask { (name, await lookup(name)) } }
                var byName: [String: [IPAddress]] = [:]
                for await (name, ips) in group { byName[name] = ips }
                return byName
            }
        }
        var out: [NodeAddress] = []
        for host in hosts {
            let ips = IPAddress(host.host).map { [$0] } ?? resolved[host.host] ?? []
            for ip in ips where families.contains(ip.family) {
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
