import Metainfo

/// One BEP 14 (Local Service Discovery) announce: an HTTP-over-UDP `BT-SEARCH`
/// request multicast on the LAN, saying "I serve these torrents on TCP `port`".
///
///     BT-SEARCH * HTTP/1.1\r\n
///     Host: 239.192.152.143:6771\r\n
///     Port: 6881\r\n
///     Infohash: <40 hex digits>\r\n        (one or more, consecutive)
///     cookie: <opaque token>\r\n           (optional)
///     \r\n
///     \r\n
///
/// The peer's address is the datagram's source IP with this `Port`. The cookie
/// lets a node that hears its own multicast (loop is on, so that two nodes on
/// one host find each other) recognise and drop it.
public struct LSDAnnounce: Equatable, Sendable {
    public var group: LSDGroup
    public var port: UInt16
    public var infoHashes: [InfoHash]
    public var cookie: String?

    public init(group: LSDGroup, port: UInt16, infoHashes: [InfoHash], cookie: String?) {
        self.group = group
        self.port = port
        self.infoHashes = infoHashes
        self.cookie = cookie
    }
}

/// The two BEP 14 multicast groups, both on UDP port 6771.
public enum LSDGroup: Sendable, CaseIterable {
    /// 239.192.152.143 (IPv4 organisation-local scope).
    case v4
    /// ff15::efc0:988f (IPv6 site-local scope).
    case v6

    public static let port: UInt16 = 6771

    public var address: String {
        switch self {
        case .v4: "239.192.152.143"
        case .v6: "ff15::efc0:988f"
        }
    }

    /// The `Host` header: the group and port, IPv6 in brackets (RFC 2732).
    public var hostHeader: String {
        switch self {
        case .v4: "\(address):\(LSDGroup.port)"
        case .v6: "[\(address)]:\(LSDGroup.port)"
        }
    }
}

public enum LSDParseError: Error, Equatable, CustomStringConvertible {
    case oversized(Int)
    case notText
    case notAnAnnounce
    case malformedHeader
    case duplicatePort
    case missingPort
    case badPort(String)
    case noInfohash
    case badCookie

    public var description: String {
        switch self {
        case .oversized(let size): "\(size) bytes is more than an LSD announce may be (\(LSDAnnounce.maxDatagramSize))"
        case .notText: "not ASCII text"
        case .notAnAnnounce: "does not start with 'BT-SEARCH * HTTP/1.1'"
        case .malformedHeader: "a header line without 'Name: value'"
        case .duplicatePort: "more than one Port header"
        case .missingPort: "no Port header"
        case .badPort(let text): "Port '\(text)' is not 1–65535"
        case .noInfohash: "no valid 40-digit Infohash header"
        case .badCookie: "cookie longer than \(LSDAnnounce.maxCookieLength) characters"
        }
    }
}

extension LSDAnnounce {
    /// BEP 14 asks senders to stay under 1400 bytes (one unfragmented datagram
    /// on any LAN); we read a little more than that so a peer that overshoots
    /// slightly is still heard, and nothing larger is ever parsed.
    public static let maxDatagramSize = 2048
    /// The largest announce we send.
    public static let maxSendSize = 1400
    public static let maxCookieLength = 64

    private static let startLine = "BT-SEARCH * HTTP/1.1"

    /// The announce as one datagram. Use `datagrams` for more infohashes than fit.
    public func encoded() -> [UInt8] {
        var text = "\(Self.startLine)\r\nHost: \(group.hostHeader)\r\nPort: \(port)\r\n"
        for infoHash in infoHashes { text += "Infohash: \(infoHash.hex)\r\n" }
        if let cookie { text += "cookie: \(cookie)\r\n" }
        text += "\r\n\r\n"
        return Array(text.utf8)
    }

    /// As many datagrams of at most `maxSendSize` bytes as it takes to announce
    /// every one of `infoHashes` (none for none).
    public static func datagrams(group: LSDGroup, port: UInt16, infoHashes: [InfoHash], cookie: String?) -> [[UInt8]] {
        let overhead = LSDAnnounce(group: group, port: port, infoHashes: [], cookie: cookie).encoded().count
        let perHash = "Infohash: \r\n".utf8.count + 40
        let perDatagram = max(1, (maxSendSize - overhead) / perHash)
        return stride(from: 0, to: infoHashes.count, by: perDatagram).map { start in
            let slice = Array(infoHashes[start..<min(start + perDatagram, infoHashes.count)])
            return LSDAnnounce(group: group, port: port, infoHashes: slice, cookie: cookie).encoded()
        }
    }

    /// Parses one received datagram. Header names are case-insensitive (BEP 14
    /// itself writes `cookie` in lower case); unknown headers are ignored, as is
    /// an Infohash that is not 40 hex digits when others are valid, the way
    /// libtorrent tolerates them; the size is checked before anything else.
    public init(parsing datagram: some Collection<UInt8>) throws(LSDParseError) {
        guard datagram.count <= Self.maxDatagramSize else { throw .oversized(datagram.count) }
        guard datagram.allSatisfy({ $0 < 0x80 && $0 != 0 }) else { throw .notText }
        let text = String(decoding: datagram, as: UTF8.self)
        // "\r\n" is one Character in Swift, and a newline, as is a bare "\n".
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)[...]
        guard lines.popFirst() == Substring(Self.startLine) else { throw .notAnAnnounce }
        var group: LSDGroup = .v4
        var port: UInt16?
        var infoHashes: [InfoHash] = []
        var cookie: String?
        for line in lines {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeader }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            switch name {
            case "host":
                if value.hasPrefix("[") { group = .v6 }
            case "port":
                guard port == nil else { throw .duplicatePort }
                guard let number = UInt16(value), number != 0 else { throw .badPort(String(value)) }
                port = number
            case "infohash":
                if value.utf8.count == 40, let infoHash = InfoHash(string: String(value)), !infoHashes.contains(infoHash) {
                    infoHashes.append(infoHash)
                }
            case "cookie":
                guard value.utf8.count <= Self.maxCookieLength else { throw .badCookie }
                cookie = String(value)
            default:
                continue
            }
        }
        guard let port else { throw .missingPort }
        guard !infoHashes.isEmpty else { throw .noInfohash }
        self.init(group: group, port: port, infoHashes: infoHashes, cookie: cookie)
    }
}

private extension Substring {
    func trimmingSpaces() -> Substring {
        var slice = self
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
