import Foundation
import TestSupport

/// A `bitfountain node` child process on 127.0.0.1 with its JSON output parsed.
struct DHTNodeProcess {
    let child: ChildProcess
    let port: Int
    let nodeID: String
    let stateDirectory: String

    var address: String { "127.0.0.1:\(port)" }

    static func start(stateDirectory: String, bootstrap: [String], extra: [String] = []) async throws -> DHTNodeProcess {
        // With no bootstrap given, point at a closed port so that no test ever
        // reaches the real bootstrap servers.
        let nodes = bootstrap.isEmpty ? ["127.0.0.1:9"] : bootstrap
        let arguments = ["node", "--bind", "127.0.0.1", "--port", "0", "--state-dir", stateDirectory, "--json",
                         "--stats-interval", "0.3"] + nodes.flatMap { ["--bootstrap", $0] } + extra
        let child = try ChildProcess(Paths.binary, arguments)
        let line = try await child.waitForLine(timeout: 30) { $0.contains("\"listening\"") }
        let event = try JSONLines.last(line)
        return DHTNodeProcess(child: child, port: event["port"] as? Int ?? 0, nodeID: event["node_id"] as? String ?? "",
                              stateDirectory: stateDirectory)
    }

    /// The latest `stats` event, if any.
    var latestStats: [String: Any]? {
        child.stdoutLines.reversed().lazy.compactMap { try? JSONLines.last($0) }.first { $0["event"] as? String == "stats" }
    }

    /// Waits until a stats event satisfies `condition`.
    func waitForStats(timeout: Double, _ condition: ([String: Any]) -> Bool) async -> [String: Any]? {
        try? await Waiting.poll(timeout: timeout, every: .milliseconds(100)) {
            guard let stats = latestStats, condition(stats) else { return nil }
            return stats
        } ?? nil
    }

    /// SIGTERM, then wait for a clean exit.
    func stop() async -> ProcessResult {
        child.signal(SIGTERM)
        return await child.wait(timeout: 20)
    }
}
