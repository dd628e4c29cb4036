import Foundation
import Testing
import TestSupport

/// Runs the python helpers in scripts/interop with Debian's python3, which has
/// python3-libtorrent. A missing module is a test failure, never a skip.
enum Libtorrent {
    static func script(_ name: String) -> String {
        Paths.repoRoot.appendingPathComponent("scripts/interop/\(name)").path
    }

    static func run(_ name: String, _ arguments: [String], timeout: Double = 120) async throws -> ProcessResult {
        let result = try await ChildProcess.run(Paths.systemPython, [script(name)] + arguments, timeout: timeout)
        if result.stderr.contains("No module named 'libtorrent'") {
            Issue.record("python3-libtorrent is not installed: run scripts/setup")
        }
        return result
    }

    /// Interop tests run against the real thing: a missing module fails the
    /// test that needs it, it never skips it.
    static func require(_ modules: [String] = ["libtorrent"]) async throws {
        let check = try await ChildProcess.run(Paths.systemPython, ["-c", "import " + modules.joined(separator: ", ")], timeout: 30)
        guard check.succeeded else {
            throw MissingPythonModules(description: "\(Paths.systemPython) lacks \(modules.joined(separator: " or ")): run scripts/setup (\(check.stderr))")
        }
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(result.succeeded, "libtorrent helper failed: \(result.stderr)")
        return try JSONLines.last(result.stdout)
    }
}

struct MissingPythonModules: Error, CustomStringConvertible {
    let description: String
}
