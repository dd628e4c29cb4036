import Foundation
import TestSupport

/// scripts/interop/lt_dht_swarm.py: a libtorrent DHT on loopback that takes
/// commands through a control file.
struct LibtorrentDHTSwarm {
    let child: ChildProcess
    let ports: [Int]
    let control: String
    let directory: TemporaryDirectory

    var bootstrapArguments: [String] { ports.flatMap { ["--bootstrap", "127.0.0.1:\($0)"] } }

    static func start(nodes: Int = 5, duration: Int = 120) async throws -> LibtorrentDHTSwarm {
        try await requireLibtorrent()
        let directory = try TemporaryDirectory("bf-lt-dht")
        let control = directory.file("control")
        _ = FileManager.default.createFile(atPath: control, contents: nil)
        let script = Paths.repoRoot.appendingPathComponent("scripts/interop/lt_dht_swarm.py").path
        let child = try ChildProcess(Paths.systemPython, [script, "--nodes", "\(nodes)", "--control", control,
                                                          "--duration", "\(duration)"])
        let ready = try await child.waitForLine(timeout: 60) { $0.contains("\"ready\"") }
        let ports = (try JSONLines.last(ready)["ports"] as? [Int]) ?? []
        return LibtorrentDHTSwarm(child: child, ports: ports, control: control, directory: directory)
    }

    func send(_ command: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: command) + Data("\n".utf8)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: control))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
    }

    /// Waits for an event line of the script that satisfies `match`.
    func waitForEvent(_ name: String, timeout: Double, where match: @escaping ([String: Any]) -> Bool = { _ in true })
        async throws -> [String: Any] {
        let line = try await child.waitForLine(timeout: timeout) { line in
            guard let object = try? JSONLines.last(line), object["event"] as? String == name else { return false }
            return match(object)
        }
        return try JSONLines.last(line)
    }

    func stop() {
        try? send(["cmd": "quit"])
    }

    /// The swarm script also needs `cryptography` (for signed node IDs).
    static func requireLibtorrent() async throws {
        try await Libtorrent.require(["libtorrent", "cryptography"])
    }
}
