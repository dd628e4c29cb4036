import Foundation
import Metainfo
import Swarm

/// A `TorrentSource` made concrete: the infohash, and what else is known.
struct ResolvedSource: Sendable {
    var infoHash: InfoHash
    var info: TorrentInfo?
    var magnet: MagnetLink?
    /// Published content: where it is, under which name, seeded read-only.
    var savePath: String?
    var rootName: String?
    var published = false
}

extension Session {
    func resolve(_ source: TorrentSource, options: AddOptions) async throws -> ResolvedSource {
        switch source {
        case .magnet(let link):
            return ResolvedSource(infoHash: link.infoHash, magnet: link)
        case .infoHash(let infoHash):
            return ResolvedSource(infoHash: infoHash, magnet: MagnetLink(infoHash: infoHash))
        case .torrentFile(let bytes):
            let torrent: Torrent
            do { torrent = try Torrent(bytes: bytes) } catch { throw SessionError("not a valid .torrent: \(error)") }
            return ResolvedSource(infoHash: torrent.infoHash, info: torrent.info)
        case .url(let url):
            let bytes = try await TorrentDownloader.fetch(url)
            let torrent: Torrent
            do { torrent = try Torrent(bytes: bytes) } catch { throw SessionError("\(url): not a valid .torrent: \(error)") }
            return ResolvedSource(infoHash: torrent.infoHash, info: torrent.info)
        case .publish(let path):
            return try await publish(path)
        }
    }

    /// Content to seed in place. `path` is the content (a file or directory:
    /// PATH.torrent is used when it exists, else a trackerless torrent is made
    /// in memory, as `bitfountain create` makes it), or a .torrent file whose
    /// content sits next to it. Hashing runs off the actor.
    private func publish(_ path: String) async throws -> ResolvedSource {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let absolute = Self.absolute(trimmed)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw SessionError("\(path): no such file or directory")
        }
        if !isDirectory.boolValue, absolute.hasSuffix(".torrent"), let torrent = Self.readTorrentFile(absolute) {
            let directory = (absolute as NSString).deletingLastPathComponent
            let content = (directory as NSString).appendingPathComponent(torrent.info.name)
            guard FileManager.default.fileExists(atPath: content) else {
                throw SessionError("\(trimmed): its content '\(torrent.info.name)' is not next to it (expected \(content))")
            }
            return ResolvedSource(infoHash: torrent.infoHash, info: torrent.info, savePath: directory,
                                  rootName: torrent.info.name, published: true)
        }
        let nodes = configuration.bootstrap.isEmpty ? DefaultBootstrap.nodes : configuration.bootstrap
        let createdBy = configuration.clientName
        let torrent: Torrent = try await Task.detached {
            if let existing = Self.readTorrentFile(absolute + ".torrent") { return existing }
            let builder = TorrentBuilder(path: absolute, nodes: nodes, createdBy: createdBy, creationDate: nil)
            do { return try builder.build().torrent } catch { throw SessionError("\(path): \(error)") }
        }.value
        return ResolvedSource(infoHash: torrent.infoHash, info: torrent.info,
                              savePath: (absolute as NSString).deletingLastPathComponent,
                              rootName: (absolute as NSString).lastPathComponent, published: true)
    }
}

extension Session {
    /// A .torrent file on disk if there is a readable one at `path` (bounded read).
    static func readTorrentFile(_ path: String) -> Torrent? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: Torrent.maxFileSize + 1), data.count <= Torrent.maxFileSize else { return nil }
        return try? Torrent(bytes: [UInt8](data))
    }
}
