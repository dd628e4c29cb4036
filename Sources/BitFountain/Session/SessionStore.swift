import Identity
import Foundation
import Metainfo
import Swarm

/// A persistent session's torrent list and settings on disk:
///
///     STATE/session/torrents/<infohash>.json   one record per torrent
///     STATE/session/settings.json
///     STATE/metadata/<infohash>.info           the info dictionary (shared with the swarm)
///     STATE/resume/<infohash>.resume           verified pieces (written by the swarm)
///
/// One small file per torrent, so adding, pausing or removing one of ten
/// thousand torrents writes a few hundred bytes, not the whole list. Every
/// write is atomic (temporary file, fsync, rename: `AtomicFile`): after a
/// `kill -9` each record is the old one or the new one, never torn.
struct SessionStore: Sendable {
    let root: String
    let state: StateDirectory

    /// The JSON form of a `ManagedTorrent` (the running parts stay out).
    struct Record: Codable {
        var id: TorrentID
        var infoHash: String
        var magnet: String?
        var savePath: String
        var rootName: String?
        var published: Bool
        var category: String?
        var tags: [String]
        var fountain: Bool
        var peers: [String]
        var paused: Bool
        var addedDate: Date
        var doneDate: Date?
        var filePriorities: [FilePriority]
        var uploadLimit: Int?
        var downloadLimit: Int?
        var downloaded: Int64
        var uploaded: Int64
        var haveBytes: Int64
    }

    init(directory: String) throws {
        state = StateDirectory(path: directory)
        root = directory + "/session"
        do {
            try FileManager.default.createDirectory(atPath: root + "/torrents", withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw SessionError("cannot use the state directory \(directory): \(error)")
        }
    }

    private func path(_ infoHash: InfoHash) -> String { root + "/torrents/\(infoHash.hex).json" }

    func save(_ torrent: ManagedTorrent) throws {
        let record = Record(id: torrent.id, infoHash: torrent.infoHash.hex, magnet: torrent.magnet?.uri,
                            savePath: torrent.savePath, rootName: torrent.rootName, published: torrent.published,
                            category: torrent.category, tags: torrent.tags, fountain: torrent.fountain,
                            peers: torrent.peers.map(\.description), paused: torrent.paused, addedDate: torrent.addedDate,
                            doneDate: torrent.doneDate, filePriorities: torrent.filePriorities,
                            uploadLimit: torrent.uploadLimit, downloadLimit: torrent.downloadLimit,
                            downloaded: torrent.downloadedBefore + (torrent.stats?.downloadedPayload ?? 0),
                            uploaded: torrent.uploadedBefore + (torrent.stats?.uploadedPayload ?? 0),
                            haveBytes: torrent.stats?.verifiedBytes ?? torrent.lastHaveBytes)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(record)), to: path(torrent.infoHash), overwrite: true, mode: 0o600)
    }

    func saveMetadata(_ info: TorrentInfo) throws { try state.saveMetadata(info) }

    func remove(_ infoHash: InfoHash) {
        try? FileManager.default.removeItem(atPath: path(infoHash))
    }

    /// Every stored torrent that can be read back, and what could not (for warnings).
    func loadAll() -> (torrents: [ManagedTorrent], problems: [String]) {
        let directory = root + "/torrents"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        var torrents: [ManagedTorrent] = []
        var problems: [String] = []
        for name in names where name.hasSuffix(".json") {
            let file = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: file), data.count < 1 << 20,
                  let record = try? decoder.decode(Record.self, from: data),
                  let infoHash = InfoHash(string: record.infoHash) else {
                problems.append("\(file): unreadable torrent record, skipped")
                continue
            }
            let magnet = record.magnet.flatMap { try? MagnetLink(parsing: $0) }
            var torrent = ManagedTorrent(id: record.id, infoHash: infoHash, info: state.loadMetadata(infoHash), magnet: magnet,
                                         savePath: record.savePath, rootName: record.rootName, published: record.published,
                                         category: record.category, tags: record.tags, fountain: record.fountain,
                                         peers: record.peers.compactMap { (try? HostPort(parsing: $0)).flatMap { PeerAddress(host: $0.host, port: $0.port) } },
                                         paused: record.paused, addedDate: record.addedDate)
            if torrent.info == nil, magnet == nil {
                torrent.magnet = MagnetLink(infoHash: infoHash)
            }
            torrent.doneDate = record.doneDate
            torrent.filePriorities = record.filePriorities
            torrent.uploadLimit = record.uploadLimit
            torrent.downloadLimit = record.downloadLimit
            torrent.downloadedBefore = record.downloaded
            torrent.uploadedBefore = record.uploaded
            torrent.lastHaveBytes = record.haveBytes
            torrents.append(torrent)
        }
        return (torrents.sorted { $0.id < $1.id }, problems)
    }

    private var settingsPath: String { root + "/settings.json" }

    func saveSettings(_ settings: SessionSettings) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(Array(try encoder.encode(settings)), to: settingsPath, overwrite: true, mode: 0o600)
    }

    func loadSettings() -> SessionSettings? {
        guard let data = FileManager.default.contents(atPath: settingsPath), data.count < 1 << 20 else { return nil }
        return try? JSONDecoder().decode(SessionSettings.self, from: data)
    }
}

extension EncryptionPolicy: Codable {}
