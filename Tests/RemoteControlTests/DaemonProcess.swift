import Foundation
import TestSupport

/// A `bitfountain daemon` started by a test: loopback only, no DHT, its own
/// state and download directories, the RPC on a free port (or the ports
/// given: a restart on the same ones shows they were released). A second
/// `DaemonProcess` on the same `work` directory is a restart with the same
/// state. Killed by PID when the test drops it (ChildProcess's deinit).
final class DaemonProcess: Sendable {
    let process: ChildProcess
    let rpcPort: Int
    /// The peer (TCP) port.
    let peerPort: Int
    let downloadDir: String
    let stateDir: String

    init(work: TemporaryDirectory, rpcPort: Int = 0, peerPort: Int = 0, downloads: String = "downloads",
         extra: [String] = []) async throws {
        downloadDir = work.file(downloads)
        stateDir = work.file("state")
        process = try ChildProcess(Paths.binary, [
            "daemon", "--bind", "127.0.0.1", "--port", "\(peerPort)", "--no-dht", "--no-lsd", "--no-port-mapping",
            "--state-dir", stateDir, "--download-dir", downloadDir, "--rpc-port", "\(rpcPort)", "--json",
        ] + extra)
        let line = try await process.waitForLine(timeout: 60) { $0.contains("\"rpc-listening\"") }
        self.rpcPort = JSONLines.event("rpc-listening", in: line)?["port"] as? Int ?? 0
        self.peerPort = JSONLines.event("listening", in: process.stdout)?["port"] as? Int ?? 0
    }

    var endpoint: String { "127.0.0.1:\(rpcPort)" }

    /// Runs Debian's transmission-remote against this daemon.
    func remote(_ arguments: [String], timeout: Double = 60) async throws -> ProcessResult {
        try await ChildProcess.run("/usr/bin/transmission-remote", [endpoint] + arguments, timeout: timeout)
    }
}
