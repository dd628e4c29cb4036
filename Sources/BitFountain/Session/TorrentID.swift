/// A session's name for one of its torrents: a small integer, stable for the
/// torrent's life in the session and across restarts of a persistent session,
/// never reused. Transmission RPC addresses torrents this way; the infohash
/// works everywhere too (`Session.id(of:)`).
public struct TorrentID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public static func < (lhs: TorrentID, rhs: TorrentID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int.self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
