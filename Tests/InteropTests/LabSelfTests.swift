import Foundation
import Testing
import TestSupport

/// The lab itself (scripts/lab): NAT, isolation, delay, rate, loss and CUBIC
/// measured inside a lab it builds, and nothing left after its teardown
/// (scripts/lab.d/selftest.py). Needs root, as the matrix does.
@Suite struct LabSelfTests {
    @Test func theLabIsolatesShapesAndTearsDownAsItsReadmeSays() async throws {
        try #require(getuid() == 0, "the lab builds network namespaces and needs root (CI runs as root)")
        let result = try await ChildProcess.run(Paths.repoRoot.appendingPathComponent("scripts/lab").path, ["selftest"],
                                                timeout: 180)
        #expect(result.succeeded, "\(result.stdout)\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("all checks passed"), "\(result.stdout)")
    }
}
