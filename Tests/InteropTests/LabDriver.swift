import Foundation
import Testing
import TestSupport

/// Runs one of the lab's Python drivers (scripts/interop/*_lab.py, matrix.py)
/// the way every lab test does: as root, bounded, and leaving no lab behind.
enum LabDriver {
    /// Runs `script` with `arguments` (plus `--bin` and `--work`). The driver
    /// bounds its own cells; `bound` only catches a hung harness: past it the
    /// driver gets SIGTERM, on which it stops its processes and removes its
    /// labs. Afterwards labs of dead owners (this driver's, if it was killed)
    /// are swept, whatever happened.
    static func run(_ script: String, _ arguments: [String] = [], work: TemporaryDirectory,
                    bound: Double) async throws -> ProcessResult {
        try #require(getuid() == 0, """
            the lab builds network namespaces and needs root (CI runs as root): \
            run this test as root, or scripts/interop/\(script) directly
            """)
        let driver = try ChildProcess(Paths.systemPython, [
            Paths.repoRoot.appendingPathComponent("scripts/interop/\(script)").path,
            "--bin", Paths.binary, "--work", work.file("cells"),
        ] + arguments)
        let deadline = Date().addingTimeInterval(bound)
        while driver.isRunning, Date() < deadline {
            try await Task.sleep(for: .seconds(1))
        }
        driver.signal(SIGTERM)
        let result = await driver.wait(timeout: 60)
        #expect(!result.timedOut, "\(script) did not stop within its own bounds")
        _ = try await ChildProcess.run(Paths.repoRoot.appendingPathComponent("scripts/lab").path, ["down", "--stale"],
                                       timeout: 120)
        return result
    }
}
