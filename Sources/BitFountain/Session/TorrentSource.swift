import Identity
import Foundation
import Metainfo
import Swarm

/// What `Session.add` opens.
public enum TorrentSource: Sendable {
    /// A magnet link: the metadata comes from peers (BEP 9); its `x.pe` peers are dialled at once.
    case magnet(MagnetLink)
    /// A bare infohash, as a magnet link without anything else.
    case infoHash(InfoHash)
    /// The bytes of a .torrent file.
    case torrentFile([UInt8])
    /// An http(s) URL of a .torrent file, fetched with a size bound (`Torrent.maxFileSize`).
    case url(URL)
    /// Local content (file or directory) to publish: a trackerless torrent is
    /// made for it (as `bitfountain create` makes it, in memory; PATH.torrent
    /// when it exists) and seeded in place. A .torrent file is seeded from the
    /// content next to it.
    case publish(path: String)

    /// Reads what a user or a remote-control client typed: a magnet link, a
    /// 40-digit hex infohash or an http(s) URL. Files are the caller's business
    /// (read them into `.torrentFile`, or use `.publish`), so a remote client can
    /// never make the session read a local path by naming it.
    public init(parsing text: String) throws(SessionError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let lower = trimmed.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard let url = URL(string: trimmed), url.host != nil else { throw SessionError("\(trimmed): not a valid URL") }
            self = .url(url)
            return
        }
        do {
            let link = try MagnetLink(parsing: trimmed)
            self = lower.hasPrefix("magnet:") ? .magnet(link) : .infoHash(link.infoHash)
        } catch {
            throw SessionError("\(trimmed.prefix(80)): not a magnet link, infohash or http(s) URL (\(error))")
        }
    }
}

/// How a torrent is added.
public struct AddOptions: Sendable, Equatable {
    /// The directory the torrent's top item goes in; nil: the session's default save path.
    /// Ignored for `.publish`, whose content stays where it is.
    public var savePath: String?
    /// Added stopped: nothing is checked, dialled or announced until `resume`.
    public var paused = false
    public var category: String?
    public var tags: [String] = []
    /// Speak bf_fountain with BitFountain peers; nil: the session's default.
    public var fountain: Bool?
    /// Peers to dial at once, besides those the DHT finds (names resolved by
    /// the caller: see `DHTBootstrapResolver.resolve`).
    public var peers: [PeerAddress] = []

    public init(savePath: String? = nil, paused: Bool = false, category: String? = nil, tags: [String] = [],
                fountain: Bool? = nil, peers: [PeerAddress] = []) {
        self.savePath = savePath
        self.paused = paused
        self.category = category
        self.tags = tags
        self.fountain = fountain
        self.peers = peers
    }
}

/// A file's download priority (`Session.setFilePriority`).
public enum FilePriority: String, Sendable, Codable, CaseIterable {
    /// Not wanted: its pieces are not fetched unless a wanted file shares them.
    case skip
    case normal
    /// Fetched before the normal ones.
    case high

    /// The piece picker's class for it (`PiecePriorities`).
    var pieceClass: UInt8 {
        switch self {
        case .skip: PiecePriorities.skip
        case .normal: PiecePriorities.normal
        case .high: PiecePriorities.high
        }
    }
}
