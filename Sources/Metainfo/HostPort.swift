/// A `host:port` pair as users type it and as BEP 5 `nodes` lists carry it.
/// IPv6 literals are written in brackets: `[::1]:6881`.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port`. Port must be 1–65535.
    public init(parsing text: String) throws(MetainfoError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .badHostPort(text, "missing ']' after IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else { throw .badHostPort(text, "expected ':PORT' after ']'") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .badHostPort(text, "expected HOST:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw .badHostPort(text, "write IPv6 addresses as [ADDRESS]:PORT") }
        }
        guard !host.isEmpty else { throw .badHostPort(text, "empty host") }
        guard let port = UInt16(portText), port != 0 else { throw .badHostPort(text, "port must be 1–65535") }
        self.init(host: String(host), port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// The bootstrap nodes a fresh node contacts when it knows no one yet.
/// Bootstrap/nodes.txt in the source tree holds the same list (a test checks).
public enum DefaultBootstrap {
    public static let nodes: [HostPort] = [
        HostPort(host: "dht.libtorrent.org", port: 25401),
        HostPort(host: "dht.transmissionbt.com", port: 6881),
        HostPort(host: "router.bt.ouinet.work", port: 6881),
    ]

    /// Parses the nodes.txt format: one HOST:PORT per line, `#` starts a comment.
    public static func parse(_ text: String) throws(MetainfoError) -> [HostPort] {
        var out: [HostPort] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            out.append(try HostPort(parsing: trimmed))
        }
        return out
    }
}

extension StringProtocol {
    /// Drops leading and trailing white space (spaces, tabs, CR, LF, CRLF).
    func trimmingWhitespace() -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
