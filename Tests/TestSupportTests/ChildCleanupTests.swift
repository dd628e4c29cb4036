import Foundation
import Testing
import TestSupport

/// A test process that dies (a crash, `kill -9`, a CI timeout) takes its child
/// processes with it, and its temporary directories are swept by the next one.
@Suite struct ChildCleanupTests {
    static let helperVariable = "BF_TEST_ORPHAN_HELPER"

    @Test func childrenDieWithAKilledTestProcessAndItsFilesAreSwept() async throws {
        let work = try TemporaryDirectory("bf-orphans")
        // A second test process, running only the helper below: it starts a child, then is SIGKILLed.
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let helper = try ChildProcess(testBinary, ["--testing-library", "swift-testing", "--filter", "helperStartsAChildAndWaits"],
                                      environment: [Self.helperVariable: work.path])
        defer { helper.signal(SIGKILL) }
        let report = try await Waiting.poll(timeout: 120) { () -> (pid: Int32, directory: String)? in
            guard let text = try? String(contentsOfFile: work.file("started"), encoding: .utf8) else { return nil }
            let fields = text.split(separator: "\n")
            guard fields.count == 2, let pid = Int32(fields[0]) else { return nil }
            return (pid, String(fields[1]))
        }
        let (grandchild, directory) = try #require(report, "the helper never started its child: \(helper.stdout.suffix(2000))")
        #expect(Self.isAlive(grandchild))
        #expect(FileManager.default.fileExists(atPath: directory))

        kill(helper.pid, SIGKILL)
        _ = await helper.wait(timeout: 30)
        let gone = try await Waiting.poll(timeout: 30) { Self.isAlive(grandchild) ? nil : true }
        #expect(gone == true, "the child of a killed test process still runs (pid \(grandchild))")
        if gone != true { kill(grandchild, SIGKILL) }  // ours, by PID: leave nothing behind

        let swept = Paths.sweepTemporaryDirectories()
        #expect(swept.contains(directory))
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    /// Runs only inside the helper process above: starts a child, says which,
    /// then waits (bounded) to be killed.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[helperVariable] != nil, "the helper of childrenDieWithAKilledTestProcess…"))
    func helperStartsAChildAndWaits() async throws {
        let report = try #require(ProcessInfo.processInfo.environment[Self.helperVariable])
        let child = try ChildProcess("/bin/sleep", ["600"])
        let leftBehind = try Paths.makeTemporaryDirectory("bf-orphan-files")
        try "\(child.pid)\n\(leftBehind.path)".write(toFile: report + "/started.tmp", atomically: false, encoding: .utf8)
        try FileManager.default.moveItem(atPath: report + "/started.tmp", toPath: report + "/started")
        try await Task.sleep(for: .seconds(120))
        child.signal(SIGKILL)
    }

    /// Alive and not a zombie (a zombie is dead, only not yet reaped by whoever inherited it).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    @Test func aMissingProgramIsAClearError() {
        #expect(throws: ProcessFailure.self) { try ChildProcess("/nonexistent/program", []) }
    }
}
