import Foundation
import TestSupport

/// Helpers for the swarm end-to-end tests: content on disk, `bitfountain
/// seed`/`get` processes on 127.0.0.1 and their JSON events.
enum Swarm {
    /// Random bytes in a file; returns them for comparison.
    @discardableResult
    static func writeRandomFile(_ path: String, size: Int) throws -> Data {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: size)
        for index in stride(from: 0, to: size, by: 8) {
            let word = generator.next() as UInt64
            for offset in 0..<min(8, size - index) { bytes[index + offset] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(offset))) }
        }
        let data = Data(bytes)
        try data.write(to: URL(fileURLWithPath: path))
        return data
    }

    /// A running `bitfountain seed` with its port and magnet links.
    struct Seed {
        let process: ChildProcess
        let port: Int
        let magnets: [String]
    }

    static func startSeed(_ paths: [String], state: String, extra: [String] = [], bind: String = "127.0.0.1",
                          environment: [String: String]? = nil) async throws -> Seed {
        let process = try ChildProcess(Paths.binary, ["seed"] + paths + ["--bind", bind, "--port", "0", "--json",
                                                                         "--state-dir", state] + extra, environment: environment)
        let listening = try await process.waitForLine(timeout: 30) { $0.contains("\"listening\"") }
        var magnets: [String] = []
        while magnets.count < paths.count {
            _ = try await process.waitForLine(timeout: 60) { _ in
                JSONLines.objects(process.stdout).filter { $0["event"] as? String == "seeding" }.count >= paths.count
            }
            magnets = JSONLines.objects(process.stdout).filter { $0["event"] as? String == "seeding" }.compactMap { $0["magnet"] as? String }
        }
        let port = (JSONLines.event("listening", in: listening) ?? [:])["port"] as? Int ?? 0
        return Seed(process: process, port: port, magnets: magnets)
    }

    static func getArguments(_ source: String, output: String, state: String, peers: [String] = [], extra: [String] = [],
                             bind: String = "127.0.0.1") -> [String] {
        ["get", source, "-o", output, "--bind", bind, "--port", "0", "--json", "--state-dir", state, "--timeout", "60"]
            + peers.flatMap { ["--peer", $0] } + extra
    }

    static func get(_ source: String, output: String, state: String, peers: [String] = [], extra: [String] = [],
                    environment: [String: String]? = nil) async throws -> ProcessResult {
        try await ChildProcess.run(Paths.binary, getArguments(source, output: output, state: state, peers: peers, extra: extra),
                                   timeout: 90, environment: environment)
    }

    static func script(_ name: String) -> String {
        Paths.repoRoot.appendingPathComponent("scripts/interop/\(name)").path
    }

    /// A misbehaving peer from scripts/interop/lt_swarm_hostile_peer.py; returns it and its port.
    static func hostilePeer(_ mode: String, infoFile: String? = nil) async throws -> (ChildProcess, Int) {
        var arguments = [script("lt_swarm_hostile_peer.py"), "--mode", mode, "--timeout", "90"]
        if let infoFile { arguments += ["--info-file", infoFile] }
        let process = try ChildProcess(Paths.systemPython, arguments)
        let line = try await process.waitForLine(timeout: 20) { $0.contains("listening") }
        return (process, JSONLines.event("listening", in: line)?["port"] as? Int ?? 0)
    }
}
