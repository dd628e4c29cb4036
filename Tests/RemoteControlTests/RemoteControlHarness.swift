import BitFountain
import Foundation
import Hummingbird
import Logging
import NIOCore
import RemoteControl
import TestSupport

/// A node with its remote control on 127.0.0.1, as `bitfountain daemon` assembles it: a
/// `Session` (no DHT, loopback only), the server with its security, the qBittorrent dialect and
/// the web UI. Plus a `bitfountain seed` of one random file to download from.
final class RemoteControlHarness: Sendable {
    let directory: TemporaryDirectory
    let session: Session
    let port: Int
    let downloads: String
    let seed: ChildProcess
    /// The seed's magnet link with its loopback address (`x.pe`), and the file it serves.
    let magnet: String
    let infoHash: String
    let fileName: String
    let fileSize: Int
    private let server: Task<Void, any Error>

    var url: String { "http://127.0.0.1:\(port)" }

    static func start(fileSize: Int = 3 << 20) async throws -> RemoteControlHarness {
        let directory = try TemporaryDirectory("bf-remote")
        let content = directory.url.appendingPathComponent("content")
        let downloads = directory.url.appendingPathComponent("downloads").path
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: true)
        let fileName = "episode-\(UUID().uuidString.prefix(6)).bin"
        let file = content.appendingPathComponent(fileName).path
        var generator = SystemRandomNumberGenerator()
        try Data((0..<fileSize).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: file))

        let seed = try ChildProcess(Paths.binary, ["seed", file, "--bind", "127.0.0.1", "--port", "0", "--json",
                                                   "--state-dir", directory.url.appendingPathComponent("seed-state").path])
        let line = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        let listening = JSONLines.objects(seed.stdout).first { $0["event"] as? String == "listening" }
        let seeding = try JSONLines.event("seeding", in: line).orThrow("no seeding event: \(line)")
        let seedPort = try (listening?["port"] as? Int).orThrow("no listening port in \(seed.stdout)")
        let seedMagnet = try (seeding["magnet"] as? String).orThrow("no magnet in \(line)")
        let infoHash = try (seeding["infohash"] as? String ?? seedMagnet.infoHashFromMagnet).orThrow("no infohash")
        let magnet = seedMagnet.contains("x.pe=") ? seedMagnet : seedMagnet + "&x.pe=127.0.0.1:\(seedPort)"

        let state = directory.url.appendingPathComponent("node-state").path
        let session = try await Session.start(.loopbackOnly(state: state, savePath: downloads,
                                                            persistTorrents: SessionConfiguration().persistTorrents))

        let paths = try PathConfinement(roots: [downloads])
        let security = try RemoteSecurity(credentials: Credentials(), bindAddress: "127.0.0.1", paths: paths)
        let services = RemoteControlServices(session: session, security: security, logger: Logger(label: "remote-control-test"))
        // The daemon's own list of dialects: Transmission RPC, /metrics, qBittorrent, the web UI.
        let routes = await DaemonRoutes.all(services: services, configDirectory: state)
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = RemoteControlServer.makeApplication(host: "127.0.0.1", port: 0, services: services, routes: routes) {
            channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        }
        // run(), not runService(): no signal handlers in the test process; cancelling the task stops it.
        let server = Task { try await application.run() }
        var port = 0
        for await value in portStream { port = value }
        return RemoteControlHarness(directory: directory, session: session, port: port, downloads: downloads, seed: seed,
                                    magnet: magnet, infoHash: infoHash.lowercased(), fileName: fileName,
                                    fileSize: fileSize, server: server)
    }

    private init(directory: TemporaryDirectory, session: Session, port: Int, downloads: String, seed: ChildProcess,
                 magnet: String, infoHash: String, fileName: String, fileSize: Int, server: Task<Void, any Error>) {
        self.directory = directory
        self.session = session
        self.port = port
        self.downloads = downloads
        self.seed = seed
        self.magnet = magnet
        self.infoHash = infoHash
        self.fileName = fileName
        self.fileSize = fileSize
        self.server = server
    }

    func stop() async {
        server.cancel()
        _ = try? await server.value
        await session.shutdown()
        seed.signal()
        _ = await seed.wait(timeout: 10)
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
}

extension Optional {
    func orThrow(_ why: @autoclosure () -> String) throws -> Wrapped {
        guard let self else { throw HarnessFailure(description: why()) }
        return self
    }
}

extension String {
    /// The 40 hex digits after `urn:btih:`.
    var infoHashFromMagnet: String? {
        guard let range = range(of: "urn:btih:") else { return nil }
        return String(self[range.upperBound...].prefix(40))
    }
}
