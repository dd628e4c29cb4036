import Foundation
import Testing
import TestSupport

/// What the swarm, fountain and swarm-through-the-DHT interop suites share:
/// random content, torrents made by libtorrent (scripts/interop/lt_swarm_peer.py),
/// and seeds of either kind on 127.0.0.1.
enum SwarmInterop {
    static let helper = Libtorrent.script("lt_swarm_peer.py")

    static func field(_ event: String, _ key: String, in text: String) -> Any? {
        JSONLines.event(event, in: text)?[key]
    }

    /// Random bytes in a new file (its directory is created); returns them for comparison.
    static func randomFile(_ path: String, size: Int) throws -> Data {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
        return data
    }

    /// A torrent libtorrent makes of `content` (0: its own piece size); returns the infohash.
    static func makeTorrent(content: String, out: String, pieceSize: Int = 0) async throws -> String {
        let made = try await ChildProcess.run(Paths.systemPython, [helper, "make", "--content", content, "--out", out,
                                                                   "--piece-size", "\(pieceSize)"], timeout: 60)
        try #require(made.succeeded, "\(made.stderr)")
        return try #require(field("made", "infohash", in: made.stdout) as? String)
    }

    /// libtorrent seeding `torrent` (content in `save`); `extra` are more helper
    /// arguments (its `--dht-node`s). Returns the process and its port.
    static func libtorrentSeed(torrent: String, save: String, uploadLimit: Int = 0,
                               extra: [String] = []) async throws -> (ChildProcess, port: Int) {
        let seed = try ChildProcess(Paths.systemPython, [helper, "seed", "--torrent", torrent, "--save", save, "--timeout", "150",
                                                         "--upload-limit", String(uploadLimit)] + extra)
        _ = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        return (seed, field("listening", "port", in: seed.stdout) as? Int ?? 0)
    }

    /// A running `bitfountain seed` of one path.
    struct Seed {
        let process: ChildProcess
        let port: Int
        let magnet: String
        let infoHash: String
    }

    /// A BitFountain seed of `path` on 127.0.0.1; `extra` are more flags (`--bootstrap`s, `--upload-limit`).
    static func bitFountainSeed(_ path: String, state: String, extra: [String] = [],
                                environment: [String: String]? = nil) async throws -> Seed {
        let process = try ChildProcess(Paths.binary, ["seed", path, "--bind", "127.0.0.1", "--port", "0", "--state-dir", state,
                                                      "--json"] + extra, environment: environment)
        _ = try await process.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        let seeding = try #require(JSONLines.event("seeding", in: process.stdout))
        return Seed(process: process, port: try #require(field("listening", "port", in: process.stdout) as? Int),
                    magnet: try #require(seeding["magnet"] as? String), infoHash: try #require(seeding["infohash"] as? String))
    }

    /// One content seeded by both kinds, each capped at `uploadLimit` bytes a
    /// second so that neither can serve everything before the other is
    /// connected: libtorrent from `lt/NAME` with a torrent it made, BitFountain
    /// from its own copy in `bf/NAME` (next to that torrent).
    struct MixedSeeds {
        let content: Data
        let torrent: String
        let infoHash: String
        let libtorrent: ChildProcess
        let libtorrentPort: Int
        let bitFountain: Seed

        func kill() {
            libtorrent.signal(SIGKILL)
            bitFountain.process.signal(SIGKILL)
        }
    }

    /// `libtorrentExtra` / `bitFountainExtra`: how each seed finds the swarm (DHT arguments).
    static func mixedSeeds(_ work: TemporaryDirectory, name: String, size: Int, pieceSize: Int, uploadLimit: Int,
                           libtorrentExtra: [String] = [], bitFountainExtra: [String] = []) async throws -> MixedSeeds {
        let content = try randomFile(work.file("lt/\(name)"), size: size)
        try FileManager.default.createDirectory(atPath: work.file("bf"), withIntermediateDirectories: true)
        try content.write(to: URL(fileURLWithPath: work.file("bf/\(name)")))
        let torrent = work.file("\(name).torrent")
        let infoHash = try await makeTorrent(content: work.file("lt/\(name)"), out: torrent, pieceSize: pieceSize)
        try FileManager.default.copyItem(atPath: torrent, toPath: work.file("bf/\(name).torrent"))
        let (libtorrent, port) = try await libtorrentSeed(torrent: torrent, save: work.file("lt"), uploadLimit: uploadLimit,
                                                          extra: libtorrentExtra)
        do {
            let bitFountain = try await bitFountainSeed(work.file("bf/\(name)"), state: work.file("seed-state"),
                                                        extra: ["--upload-limit", String(uploadLimit)] + bitFountainExtra)
            return MixedSeeds(content: content, torrent: torrent, infoHash: infoHash, libtorrent: libtorrent,
                              libtorrentPort: port, bitFountain: bitFountain)
        } catch {
            libtorrent.signal(SIGKILL)
            throw error
        }
    }
}
