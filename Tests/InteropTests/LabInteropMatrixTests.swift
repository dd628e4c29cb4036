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
        let work = try TemporaryDirectory("bf-matrix")
        let result = try await LabDriver.run("matrix.py", work: work, bound: Double(Self.longestCell + 240))
        #expect(result.stdout.contains("interop matrix"), "no matrix table printed: \(result.stderr.suffix(2000))")
        #expect(result.status == 0, "failed cells:\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(1000))")
        // The table with every cell's time goes into the CI log, passing or not.
        if let table = result.stdout.range(of: "interop matrix") {
            print(result.stdout[table.lowerBound...].prefix(2000))
        }
    }
}
