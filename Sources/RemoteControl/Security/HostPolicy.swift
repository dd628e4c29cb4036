/// Which names the daemon answers to, against DNS rebinding: a page on
/// evil.example whose name is re-pointed at 127.0.0.1 still sends
/// `Host: evil.example`, so a request is served only when its Host (and its
/// Origin, when a browser sends one) names loopback, the bind address or a host
/// the operator listed with `--rpc-host`.
public struct HostPolicy: Sendable, Equatable {
    public let allowedHosts: Set<String>

    public static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]

    public init(bindAddress: String, extraHosts: [String] = []) {
        var hosts = HostPolicy.loopbackNames
        if !BindPolicy.isWildcard(bindAddress) { hosts.insert(HostPolicy.normalise(bindAddress)) }
        for host in extraHosts { hosts.insert(HostPolicy.normalise(host)) }
        allowedHosts = hosts
    }

    public enum Verdict: Equatable, Sendable {
        case allowed
        case rejected(String)
    }

    /// `host` is the Host header (or HTTP/2 :authority), `origin` the Origin header.
    public func check(host: String?, origin: String?) -> Verdict {
        guard let host, let name = HostPolicy.hostName(ofAuthority: host) else {
            return .rejected("the request has no Host header")
        }
        guard allowedHosts.contains(name) else {
            return .rejected("Host '\(host)' is not one this daemon answers to; add it with --rpc-host \(name)")
        }
        if let origin {
            guard origin != "null", let originName = HostPolicy.hostName(ofOrigin: origin),
                  allowedHosts.contains(originName) else {
                return .rejected("Origin '\(origin)' is not allowed")
            }
        }
        return .allowed
    }

    /// The host of `host[:port]`, `[v6]:port` or `v6`, lowercased.
    static func hostName(ofAuthority authority: String) -> String? {
        let value = authority.trimmingCharacters(in: " \t")
        guard !value.isEmpty else { return nil }
        if value.hasPrefix("[") {
            // `[v6]` or `[v6]:port`, nothing else after the bracket.
            guard let close = value.firstIndex(of: "]") else { return nil }
            let after = value[value.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return nil }
            return normalise(String(value[value.index(after: value.startIndex)..<close]))
        }
        if value.filter({ $0 == ":" }).count > 1 { return normalise(value) }  // bare IPv6
        return normalise(String(value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]))
    }

    /// The host of `scheme://host[:port]`.
    static func hostName(ofOrigin origin: String) -> String? {
        guard let range = origin.range(of: "://") else { return nil }
        let rest = origin[range.upperBound...]
        let authority = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return hostName(ofAuthority: String(authority))
    }

    static func normalise(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice.removeFirst() }
        while let last = slice.last, characters.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
