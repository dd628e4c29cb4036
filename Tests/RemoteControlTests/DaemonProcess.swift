import Foundation
import TestSupport

/// A `bitfountain daemon` started by a test: loopback only, no DHT, its own
/// state and download directories, the RPC on a free port. Killed by PID
/// when the test drops it (ChildProcess's deinit).
final class DaemonProcess: Sendable {
    let process: ChildProcess
    let rpcPort: Int
    let downloadDir: String
    let stateDir: String

    init(work: TemporaryDirectory, extra: [String] = []) async throws {
        downloadDir = work.file("downloads")
        stateDir = work.file("state")
        process = try ChildProcess(Paths.binary, [
            "daemon", "--bind", "127.0.0.1", "--port", "0", "--no-dht", "--no-lsd", "--no-port-mapping",
            "--state-dir", stateDir, "--download-dir", downloadDir, "--rpc-port", "0", "--json",
        ] + extra)
        let line = try await process.waitForLine(timeout: 60) { $0.contains("\"rpc-listening\"") }
        rpcPort = JSONLines.event("rpc-listening", in: line)?["port"] as? Int ?? 0
    }

    var endpoint: String { "127.0.0.1:\(rpcPort)" }

    /// Runs Debian's transmission-remote against this daemon.
    func remote(_ arguments: [String], timeout: Double = 60) async throws -> ProcessResult {
        try await ChildProcess.run("/usr/bin/transmission-remote", [endpoint] + arguments, timeout: timeout)
    }
}
