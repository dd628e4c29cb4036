import Bencode
import Foundation

/// Makes a trackerless v1 .torrent from a file or directory.
///
/// The result has no `announce` key: peers are found on the DHT, and the
/// `nodes` list (BEP 5) tells clients where to join it.
public struct TorrentBuilder: Sendable {
    public var path: String
    /// Piece size in bytes; nil picks one with `PieceSize.choose`.
    public var pieceLength: Int?
    public var nodes: [HostPort]
    public var comment: String?
    public var createdBy: String
    /// Unix time written as `creation date`; nil leaves it out (for reproducible torrents).
    public var creationDate: Int64?
    public var threads: Int

    public init(path: String, pieceLength: Int? = nil, nodes: [HostPort] = DefaultBootstrap.nodes,
                comment: String? = nil, createdBy: String = "BitFountain",
                creationDate: Int64? = Int64(Date().timeIntervalSince1970),
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.path = path
        self.pieceLength = pieceLength
        self.nodes = nodes
        self.comment = comment
        self.createdBy = createdBy
        self.creationDate = creationDate
        self.threads = threads
    }

    /// A finished torrent: the file's bytes and what was parsed back from them.
    public struct Output: Sendable {
        public let bytes: [UInt8]
        public let torrent: Torrent
        public let plan: ContentPlan
    }

    /// Scans, hashes and encodes. `progress` receives (bytes hashed, bytes in all).
    public func build(progress: (Int64, Int64) -> Void = { _, _ in }) throws(MetainfoError) -> Output {
        if let pieceLength {
            guard pieceLength >= 16 << 10, pieceLength <= PieceSize.maximum, pieceLength & (pieceLength - 1) == 0 else {
                throw .invalidValue(field: "piece size", reason: "must be a power of two from 16 KiB to 16 MiB")
            }
        }
        let plan = try ContentScanner.scan(path)
        let total = plan.totalLength
        let pieceLength = self.pieceLength ?? PieceSize.choose(forTotalLength: total)
        let layout = FileLayout(sizes: zip(plan.relativePaths, plan.lengths).map { ($0, $1, false) }, pieceLength: pieceLength)
        let hasher = PieceHasher(layout: layout, diskPaths: plan.diskPaths, threads: threads)
        let pieces = try hasher.run { progress($0, total) }

        var info: [String: BValue] = [
            "name": .string(plan.name),
            "piece length": .integer(Int64(pieceLength)),
            "pieces": .bytes(pieces),
        ]
        if plan.isMultiFile {
            // Paths inside the torrent are relative to the top directory, which is `name`.
            info["files"] = .list(zip(plan.relativePaths, plan.lengths).map { path, length in
                .dict(["length": .integer(length), "path": .list(path.map { .string($0) })])
            })
        } else {
            info["length"] = .integer(total)
        }
        var root: [String: BValue] = [
            "info": .dict(info),
            "created by": .string(createdBy),
            "nodes": .list(nodes.map { .list([.string($0.host), .integer(Int64($0.port))]) }),
        ]
        if let comment { root["comment"] = .string(comment) }
        if let creationDate { root["creation date"] = .integer(creationDate) }

        let bytes = BValue.dict(root).encoded
        return Output(bytes: bytes, torrent: try Torrent(bytes: bytes), plan: plan)
    }
}
