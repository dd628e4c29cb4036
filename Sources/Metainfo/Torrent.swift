import Bencode

/// A .torrent file: the info dictionary plus the outer, unhashed fields.
public struct Torrent: Sendable {
    /// Largest .torrent file we will read; real ones are far below this.
    public static let maxFileSize = 64 << 20

    public let info: TorrentInfo
    /// BEP 5 bootstrap nodes carried by trackerless torrents.
    public let nodes: [HostPort]
    /// Tracker URLs, kept only so `info` can show them: BitFountain never contacts trackers.
    public let trackers: [String]
    public let comment: String?
    public let createdBy: String?
    public let creationDate: Int64?

    public var infoHash: InfoHash { info.infoHash }

    public init(bytes: [UInt8]) throws(MetainfoError) {
        guard bytes.count <= Torrent.maxFileSize else {
            throw .invalidValue(field: "file", reason: "is larger than \(Torrent.maxFileSize >> 20) MiB")
        }
        let root: BNode
        do { root = try BencodeDecoder().decode(bytes) } catch let error as BencodeError { throw .bencode(error) } catch { throw .missingField("info") }
        guard root.isDictionary else { throw .wrongType(field: "torrent", expected: "a dictionary") }
        guard let infoNode = root["info"] else { throw .missingField("info") }
        // The infohash must come from the bytes as they are in the file, never re-encoded.
        info = try TorrentInfo(node: infoNode, rawBytes: Array(bytes[infoNode.span]))

        var nodes: [HostPort] = []
        for pair in root["nodes"]?.list ?? [] {
            guard let items = pair.list, items.count == 2, let host = items[0].string,
                  let port = items[1].integer, port > 0, port <= 65535, !host.isEmpty else { continue }
            nodes.append(HostPort(host: host, port: UInt16(port)))
        }
        self.nodes = nodes

        var trackers: [String] = []
        if let announce = root["announce"]?.string { trackers.append(announce) }
        for tier in root["announce-list"]?.list ?? [] {
            for url in tier.list ?? [] { if let text = url.string, !trackers.contains(text) { trackers.append(text) } }
        }
        self.trackers = trackers
        comment = root["comment.utf-8"]?.string ?? root["comment"]?.string
        createdBy = root["created by"]?.string
        creationDate = root["creation date"]?.integer
    }

    /// The magnet link that lets anyone fetch this torrent from the DHT.
    public var magnetLink: MagnetLink {
        MagnetLink(infoHash: infoHash, displayName: info.name)
    }
}
