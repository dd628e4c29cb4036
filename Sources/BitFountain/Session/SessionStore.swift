import Identity
import Foundation
import Metainfo
import Swarm
import Synchronization

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

    /// The JSON form of a `ManagedTorrent`: who it is and its peers, with
    /// its `Kept` part written as it is beside them (the running parts stay out).
    struct Record: Codable {
        var id: TorrentID
        var infoHash: String
        var magnet: String?
        var peers: [String]
        var kept: ManagedTorrent.Kept

        private enum CodingKeys: String, CodingKey { case id, infoHash, magnet, peers }
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
        // The running totals go in, as if it stopped now: what the next start counts on from.
        var counted = torrent
        counted.absorbCounters()
        let record = Record(id: torrent.id, infoHash: torrent.infoHash.hex, magnet: torrent.magnet?.uri,
                            peers: torrent.peers.map(\.description), kept: counted.kept)
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
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }
        // Ten thousand records and their info dictionaries are CPU work (JSON,
        // bencode, SHA-1) before the first torrent starts: spread over the cores.
        let parts = max(1, min(names.count / 256, ProcessInfo.processInfo.activeProcessorCount))
        let loaded = Mutex<[(torrents: [ManagedTorrent], problems: [String])]>([])
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let share = stride(from: part, to: names.count, by: parts).map { names[$0] }
            let result = load(share, from: directory)
            loaded.withLock { $0.append(result) }
        }
        let all = loaded.withLock { $0 }
        return (all.flatMap(\.torrents).sorted { $0.id < $1.id }, all.flatMap(\.problems))
    }

    private func load(_ names: [String], from directory: String) -> (torrents: [ManagedTorrent], problems: [String]) {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        var torrents: [ManagedTorrent] = []
        var problems: [String] = []
        // Most torrents share a few save paths: each decoded record had its own copy of the text.
        var savePaths: Set<String> = []
        for name in names {
            let file = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: file), data.count < 1 << 20,
                  let record = try? decoder.decode(Record.self, from: data),
                  let infoHash = InfoHash(string: record.infoHash) else {
                problems.append("\(file): unreadable torrent record, skipped")
                continue
            }
            let magnet = record.magnet.flatMap { try? MagnetLink(parsing: $0) }
            var kept = record.kept
            kept.savePath = savePaths.insert(kept.savePath).memberAfterInsert
            if kept.filePriorities.allSatisfy({ $0 == .normal }) { kept.filePriorities = [] }
            var torrent = ManagedTorrent(id: record.id, infoHash: infoHash, info: state.loadMetadata(infoHash), magnet: magnet,
                                         peers: record.peers.compactMap { (try? HostPort(parsing: $0)).flatMap { PeerAddress(host: $0.host, port: $0.port) } },
                                         kept: kept)
            if torrent.info == nil, magnet == nil {
                torrent.magnet = MagnetLink(infoHash: infoHash)
            }
            torrents.append(torrent)
        }
        return (torrents, problems)
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

extension SessionStore.Record {
    /// The record's own keys, then the kept fields in the same JSON object.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(TorrentID.self, forKey: .id)
        infoHash = try container.decode(String.self, forKey: .infoHash)
        magnet = try container.decodeIfPresent(String.self, forKey: .magnet)
        peers = try container.decode([String].self, forKey: .peers)
        kept = try ManagedTorrent.Kept(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(infoHash, forKey: .infoHash)
        try container.encodeIfPresent(magnet, forKey: .magnet)
        try container.encode(peers, forKey: .peers)
        try kept.encode(to: encoder)
    }
}

extension EncryptionPolicy: Codable {}
