import ArgumentParser
import Foundation
import Metainfo

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a .torrent file, a magnet link or an infohash contains.",
        discussion: """
        Examples:
          bitfountain info talk.mp4.torrent
          bitfountain info 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=talk.mp4'
          bitfountain info 0123456789abcdef0123456789abcdef01234567 --json
        """
    )

    @Argument(help: "A .torrent file, a magnet link or a 40-character hex infohash.")
    var source: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let isFile = FileManager.default.fileExists(atPath: source)
        if !isFile, source.lowercased().hasPrefix("magnet:") || InfoHash(string: source) != nil {
            show(try MagnetLink(parsing: source))
        } else {
            show(try TorrentLoader.load(path: source))
        }
    }

    private func show(_ link: MagnetLink) {
        if json {
            JSONOutput.line(MagnetReport(infohash: link.infoHash.hex, name: link.displayName,
                                         peers: link.peers.map(\.description), magnet: link.uri))
            return
        }
        print("infohash  \(link.infoHash.hex)")
        print("base32    \(link.infoHash.base32)")
        if let name = link.displayName { print("name      \(name)") }
        for peer in link.peers { print("peer      \(peer)") }
        print("magnet    \(link.uri)")
        print("(a magnet link holds no file list: `bitfountain get` fetches it from peers)")
    }

    private func show(_ torrent: Torrent) {
        let info = torrent.info
        if json {
            JSONOutput.line(TorrentReport(
                infohash: info.infoHash.hex, name: info.name, magnet: torrent.magnetLink.uri,
                totalLength: info.totalLength, pieceLength: info.pieceLength, pieceCount: info.pieceCount,
                files: info.files.filter { !$0.isPadding }.map { FileReport(path: diskPath(of: $0, in: info), length: $0.length) },
                nodes: torrent.nodes.map(\.description), trackers: torrent.trackers,
                comment: torrent.comment, createdBy: torrent.createdBy, creationDate: torrent.creationDate,
                isPrivate: info.isPrivate))
            return
        }
        print("name        \(info.name)")
        print("infohash    \(info.infoHash.hex)")
        print("size        \(Format.bytes(info.totalLength)) (\(info.totalLength) bytes)")
        print("pieces      \(info.pieceCount) × \(Format.bytes(Int64(info.pieceLength)))")
        if let comment = torrent.comment { print("comment     \(comment)") }
        if let createdBy = torrent.createdBy { print("created by  \(createdBy)") }
        if let date = torrent.creationDate {
            print("created     \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(date))))")
        }
        print("nodes       \(torrent.nodes.isEmpty ? "(none)" : torrent.nodes.map(\.description).joined(separator: ", "))")
        if !torrent.trackers.isEmpty { print("trackers    \(torrent.trackers.joined(separator: ", ")) (ignored: BitFountain uses the DHT)") }
        if info.isPrivate { print("private     yes (BEP 27: such torrents must not use the DHT)") }
        let files = info.files.filter { !$0.isPadding }
        print("files       \(files.count)")
        for file in files.prefix(200) {
            print("  \(Format.bytes(file.length).padding(toLength: 10, withPad: " ", startingAt: 0))  \(diskPath(of: file, in: info))")
        }
        if files.count > 200 { print("  … and \(files.count - 200) more") }
        print("magnet      \(torrent.magnetLink.uri)")
    }
}

/// Where a file lands relative to the download directory: multi-file torrents
/// put everything under a directory named after the torrent.
private func diskPath(of file: FileEntry, in info: TorrentInfo) -> String {
    (info.isMultiFile ? [info.name] + file.path : file.path).joined(separator: "/")
}

/// Reads a .torrent file with a clear error for every way it can be wrong.
enum TorrentLoader {
    static func load(path: String) throws -> Torrent {
        let bytes = try loadBytes(path: path)
        do {
            return try Torrent(bytes: bytes)
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }

    /// The file's bytes, checked to be a torrent (the errors of `load`).
    static func loadBytes(path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CLIError("\(path): no such file, and not a magnet link or a 40-character hex infohash")
        }
        defer { try? handle.close() }
        // Bounded read: a multi-gigabyte "torrent" must not be pulled into memory.
        let data = (try? handle.read(upToCount: Torrent.maxFileSize + 1)) ?? Data()
        guard data.count <= Torrent.maxFileSize else { throw CLIError("\(path): larger than \(Torrent.maxFileSize >> 20) MiB, not a torrent") }
        do {
            _ = try Torrent(bytes: [UInt8](data))
        } catch {
            throw CLIError("\(path): \(error)")
        }
        return [UInt8](data)
    }
}

private struct FileReport: Encodable {
    let path: String
    let length: Int64
}

private struct MagnetReport: Encodable {
    let kind = "magnet"
    let infohash: String
    let name: String?
    let peers: [String]
    let magnet: String
}

private struct TorrentReport: Encodable {
    let kind = "torrent"
    let infohash: String
    let name: String
    let magnet: String
    let totalLength: Int64
    let pieceLength: Int
    let pieceCount: Int
    let files: [FileReport]
    let nodes: [String]
    let trackers: [String]
    let comment: String?
    let createdBy: String?
    let creationDate: Int64?
    let isPrivate: Bool
}
