import Foundation
import Testing
import TestSupport

/// Every stock client, both ways, through the DHT of an emulated Internet:
/// scripts/interop/matrix.py on the lab (scripts/lab). It needs root for
/// network namespaces, as CI has; without root this test fails and says so,
/// because a matrix that silently did not run would read as a green one.
@Suite struct LabInteropMatrixTests {
    /// The longest cell bound the matrix gives a client (Transmission's 300 s:
    /// its DHT announces minutes after it starts); the cells run at once, so the
    /// whole matrix takes about this plus the lab's DHT start-up. The matrix picks
    /// each client's bound itself: passing --cell-timeout would cut them all to one.
    static let longestCell = 300

    @Test func everyClientInteroperatesInBothDirectionsThroughTheDHT() async throws {
        try #require(getuid() == 0, """
            the interop matrix builds network namespaces and needs root (CI runs as root): \
            run `swift test --filter LabInteropMatrixTests` as root, or scripts/interop/matrix.py directly
            """)
        let work = try TemporaryDirectory("bf-matrix")
        let matrix = try ChildProcess(Paths.systemPython, [
            Paths.repoRoot.appendingPathComponent("scripts/interop/matrix.py").path,
            "--bin", Paths.binary, "--work", work.file("cells"),
        ])
        // The matrix bounds every cell itself; this bound only catches a hung
        // harness. SIGTERM first: the matrix then stops its processes and removes its labs.
        let deadline = Date().addingTimeInterval(Double(Self.longestCell + 240))
        while matrix.isRunning, Date() < deadline {
            try await Task.sleep(for: .seconds(1))
        }
        matrix.signal(SIGTERM)
        let result = await matrix.wait(timeout: 60)
        #expect(!result.timedOut, "the matrix did not stop within its own bounds")
        #expect(result.stdout.contains("interop matrix"), "no matrix table printed: \(result.stderr.suffix(2000))")
        #expect(result.status == 0, "failed cells:\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(1000))")
        // The table with every cell's time goes into the CI log, passing or not.
        if let table = result.stdout.range(of: "interop matrix") {
            print(result.stdout[table.lowerBound...].prefix(2000))
        }
        // Whatever happened, no lab of a dead owner (this matrix's, if it was killed) stays behind.
        _ = try await ChildProcess.run(Paths.repoRoot.appendingPathComponent("scripts/lab").path, ["down", "--stale"],
                                       timeout: 120)
    }
}
