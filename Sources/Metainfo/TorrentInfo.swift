import Bencode
import Crypto

/// The info dictionary of a v1 torrent (BEP 3), parsed and checked.
///
/// Built from the raw bytes of the dictionary, from a .torrent file or from
/// peers (BEP 9); `infoHash` is the SHA-1 of exactly those bytes.
public struct TorrentInfo: Sendable {
    /// Bounds applied to untrusted info dictionaries.
    public static let maxPieceLength = 256 << 20
    public static let maxInfoSize = 64 << 20
    public static let maxFileCount = 1_000_000

    public let rawBytes: [UInt8]
    public let infoHash: InfoHash
    /// The suggested name of the file (single-file) or top directory (multi-file).
    public let name: String
    public let isMultiFile: Bool
    public let layout: FileLayout
    /// 20-byte SHA-1 per piece.
    public let pieceHashes: [[UInt8]]
    public let isPrivate: Bool

    public var pieceLength: Int { layout.pieceLength }
    public var pieceCount: Int { pieceHashes.count }
    public var totalLength: Int64 { layout.totalLength }
    public var files: [FileEntry] { layout.files }

    public init(rawBytes: [UInt8]) throws(MetainfoError) {
        guard rawBytes.count <= TorrentInfo.maxInfoSize else {
            throw .invalidValue(field: "info", reason: "is larger than \(TorrentInfo.maxInfoSize >> 20) MiB")
        }
        let node: BNode
        do { node = try BencodeDecoder().decode(rawBytes) } catch let error as BencodeError { throw .bencode(error) } catch { throw .missingField("info") }
        try self.init(node: node, rawBytes: rawBytes)
    }

    init(node: BNode, rawBytes: [UInt8]) throws(MetainfoError) {
        guard node.isDictionary else { throw .wrongType(field: "info", expected: "a dictionary") }
        self.rawBytes = rawBytes
        self.infoHash = InfoHash(bytes: Array(Insecure.SHA1.hash(data: rawBytes)))!

        let name = try Self.text(node, "name")
        self.name = try SafePath.validate([name])[0]

        guard let pieceLength = node["piece length"]?.integer else { throw .missingField("piece length") }
        guard pieceLength > 0, pieceLength <= Int64(TorrentInfo.maxPieceLength) else {
            throw .invalidValue(field: "piece length", reason: "must be between 1 and \(TorrentInfo.maxPieceLength) bytes")
        }

        let files: [(path: [String], length: Int64, isPadding: Bool)]
        if let list = node["files"] {
            guard node["length"] == nil else { throw .invalidValue(field: "info", reason: "has both 'length' and 'files'") }
            files = try Self.parseFiles(list)
            isMultiFile = true
        } else {
            guard let length = node["length"]?.integer else { throw .missingField("length") }
            guard length >= 0 else { throw .invalidValue(field: "length", reason: "is negative") }
            files = [([self.name], length, false)]
            isMultiFile = false
        }
        layout = FileLayout(sizes: files, pieceLength: Int(pieceLength))

        guard let pieces = node["pieces"]?.bytes else { throw .missingField("pieces") }
        guard pieces.count % 20 == 0 else { throw .invalidValue(field: "pieces", reason: "length is not a multiple of 20") }
        guard pieces.count / 20 == layout.pieceCount else {
            throw .invalidValue(field: "pieces", reason: "holds \(pieces.count / 20) hashes for \(layout.pieceCount) pieces")
        }
        pieceHashes = stride(from: 0, to: pieces.count, by: 20).map { Array(pieces[$0..<($0 + 20)]) }
        isPrivate = node["private"]?.integer == 1
    }

    /// A text field; BEP 3 names may come with a `.utf-8` twin, which wins when present.
    private static func text(_ node: BNode, _ key: String) throws(MetainfoError) -> String {
        if let utf8 = node[key + ".utf-8"]?.string { return utf8 }
        guard let bytes = node[key]?.bytes else { throw .missingField(key) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func parseFiles(_ list: BNode) throws(MetainfoError) -> [(path: [String], length: Int64, isPadding: Bool)] {
        guard let items = list.list else { throw .wrongType(field: "files", expected: "a list") }
        guard !items.isEmpty else { throw .invalidValue(field: "files", reason: "is empty") }
        guard items.count <= maxFileCount else { throw .invalidValue(field: "files", reason: "lists more than \(maxFileCount) files") }
        var out: [(path: [String], length: Int64, isPadding: Bool)] = []
        var seen = Set<[String]>()
        var directories = Set<[String]>()
        for item in items {
            guard item.isDictionary else { throw .wrongType(field: "files", expected: "a list of dictionaries") }
            guard let length = item["length"]?.integer else { throw .missingField("files/length") }
            guard length >= 0 else { throw .invalidValue(field: "files/length", reason: "is negative") }
            let pathNode = item["path.utf-8"] ?? item["path"]
            guard let parts = pathNode?.list else { throw .missingField("files/path") }
            var path: [String] = []
            for part in parts {
                guard let bytes = part.bytes else { throw .wrongType(field: "files/path", expected: "a list of strings") }
                path.append(String(decoding: bytes, as: UTF8.self))
            }
            _ = try SafePath.validate(path)
            let isPadding = item["attr"]?.bytes?.contains(UInt8(ascii: "p")) ?? false
            if !isPadding {
                // Two files at one path, or a file where another needs a directory, would overwrite data.
                let joined = path.joined(separator: "/")
                guard seen.insert(path).inserted, !directories.contains(path) else { throw .duplicatePath(joined) }
                for depth in 1..<path.count { directories.insert(Array(path[..<depth])) }
                for depth in 1..<path.count where seen.contains(Array(path[..<depth])) { throw .duplicatePath(joined) }
            }
            out.append((path, length, isPadding))
        }
        return out
    }
}
