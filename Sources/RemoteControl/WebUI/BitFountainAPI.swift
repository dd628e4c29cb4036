import BitFountain
import Foundation
import Metainfo

/// `/api/bf/...`: what the web UI needs and the qBittorrent API does not have — peers with their
/// bf_fountain flag, publishing a local path, the DHT's state, the node's limits. Same shape as
/// `QBittorrentAPI`: decoded parameters in, a `QBResponse` out, HTTP elsewhere.
public struct BitFountainAPI: Sendable {
    /// A directory listing for the publish picker stops here (a person does not scroll further).
    public static let maxListing = 500

    let session: Session
    let paths: PathConfinement

    public init(session: Session, paths: PathConfinement) {
        self.session = session
        self.paths = paths
    }

    public static let methods: Set<String> = ["peers", "roots", "browse", "publish", "dht", "settings"]

    public func handle(_ method: String, _ parameters: QBParameters, isPost: Bool) async -> QBResponse {
        do {
            switch method {
            case "peers": return try await peers(parameters)
            case "roots": return .json(.object(["roots": .array(paths.roots.map(JSONValue.string))]))
            case "browse": return try browse(parameters)
            case "publish":
                guard isPost else { throw QBRequestError.badParameter("method", "publish needs POST") }
                return try await publish(parameters)
            case "dht": return await dht()
            case "settings": return isPost ? try await updateSettings(parameters) : await settings()
            default: throw QBRequestError.notFound("Unknown method \(method)")
            }
        } catch let error as QBRequestError {
            return .failure(error)
        } catch {
            return .failure(.conflict("\(error)"))
        }
    }

    private func torrentID(_ parameters: QBParameters) async throws(QBRequestError) -> TorrentID {
        let hash = try parameters.required("hash")
        guard let infoHash = InfoHash(string: hash), let id = await session.id(of: infoHash) else {
            throw .notFound("Torrent hash \(hash)")
        }
        return id
    }

    private func peers(_ parameters: QBParameters) async throws -> QBResponse {
        let peers = try await session.peers(try await torrentID(parameters))
        return .json(.array(peers.sorted { $0.address < $1.address }.map { peer in
            .object([
                "address": .string(peer.address),
                "client": .string(peer.client),
                "dlspeed": .int(Int64(metric: peer.downloadRate)),
                "upspeed": .int(Int64(metric: peer.uploadRate)),
                "progress": .double(peer.progress),
                "fountain": .bool(peer.speaksFountain),
                "transport": .string(peer.transport.rawValue),
                "encrypted": .bool(peer.encrypted),
            ])
        }))
    }

    /// A path under download root number `root`, confined (no `..`, no symlink out of the roots).
    private func confined(_ parameters: QBParameters) throws(QBRequestError) -> String {
        let index = try parameters.int("root") ?? 0
        guard paths.roots.indices.contains(index) else { throw .badParameter("root", String(index)) }
        let relative = (parameters["path"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/ "))
        let full = relative.isEmpty ? paths.roots[index] : paths.roots[index] + "/" + relative
        do {
            return try paths.confine(full)
        } catch {
            throw .badParameter("path", error.description)
        }
    }

    private func browse(_ parameters: QBParameters) throws -> QBResponse {
        let directory = try confined(parameters)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let entries = names.filter { !$0.hasPrefix(".") }.sorted().prefix(Self.maxListing).map { name -> JSONValue in
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory)
            return .object(["name": .string(name), "directory": .bool(isDirectory.boolValue)])
        }
        return .json(.object(["path": .string(directory), "entries": .array(Array(entries))]))
    }

    private func publish(_ parameters: QBParameters) async throws -> QBResponse {
        guard !(parameters["path"] ?? "").isEmpty else { throw QBRequestError.missingParameter("path") }
        let path = try confined(parameters)
        guard FileManager.default.fileExists(atPath: path) else { throw QBRequestError.notFound("\(path) does not exist") }
        let id: TorrentID
        do {
            id = try await session.add(.publish(path: path))
        } catch let duplicate as DuplicateTorrentError {
            id = duplicate.id
        }
        let snapshot = try await session.snapshot(id)
        return .json(.object(["hash": .string(snapshot.infoHash.hex), "name": .string(snapshot.name),
                              "magnet": .string(snapshot.magnetLink)]))
    }

    private func dht() async -> QBResponse {
        guard let dht = session.dht, let statistics = await dht.statistics() else {
            return .json(.object(["enabled": .bool(false), "nodes": .int(0), "verifiedShare": .int(0)]))
        }
        let counters = statistics.counters
        let share = statistics.tableSize > 0 ? Double(statistics.verifiedNodes) / Double(statistics.tableSize) : 0
        return .json(.object([
            "enabled": .bool(true),
            "nodeID": .string(statistics.families.first.map { $0.nodeID.hex } ?? ""),
            "port": .int(Int64(dht.dhtPort ?? 0)),
            "nodes": .int(Int64(statistics.tableSize)),
            "verifiedNodes": .int(Int64(statistics.verifiedNodes)),
            "verifiedShare": .double(share),
            "storedInfoHashes": .int(Int64(statistics.storedInfoHashes)),
            "storedPeers": .int(Int64(statistics.storedPeers)),
            "lookups": .object([
                "queriesSent": .int(Int64(counters.queriesSent)),
                "responsesReceived": .int(Int64(counters.responsesReceived)),
                "timeouts": .int(Int64(counters.timeouts)),
                "queriesReceived": .int(Int64(counters.queriesReceived)),
                "responsesSent": .int(Int64(counters.responsesSent)),
                "peersAnnouncedToUs": .int(Int64(counters.peersAnnouncedToUs)),
            ]),
        ]))
    }

    private func settings() async -> QBResponse {
        let settings = await session.currentSettings()
        return .json(.object([
            "downloadLimit": .int(Int64(settings.downloadLimit ?? 0)),
            "uploadLimit": .int(Int64(settings.uploadLimit ?? 0)),
            "maxConnections": .int(Int64(settings.maxConnections)),
            "maxPeersPerTorrent": .int(Int64(settings.maxPeersPerTorrent)),
            "port": .int(Int64(settings.port)),
            "fountain": .bool(settings.fountain),
        ]))
    }

    private func updateSettings(_ parameters: QBParameters) async throws -> QBResponse {
        var settings = await session.currentSettings()
        func limit(_ name: String) throws(QBRequestError) -> Int?? {
            guard let value = try parameters.int(name) else { return .none }
            guard value >= 0 else { throw .badParameter(name, String(value)) }
            return .some(value == 0 ? nil : value)
        }
        if let value = try limit("downloadLimit") { settings.downloadLimit = value }
        if let value = try limit("uploadLimit") { settings.uploadLimit = value }
        try await session.updateSettings(settings)
        return await self.settings()
    }
}
