import Foundation

/// What a finished child process left behind.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let timedOut: Bool

    public var succeeded: Bool { status == 0 && !timedOut }
}

public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
}

/// A child process whose output goes to files (no pipe can fill up and stall
/// it), bounded in time, and killed when the test lets go of it. Tests only
/// ever kill processes they started, through this type.
///
/// It also dies with the test process, however that ends (a crash, a
/// `kill -9`, a CI timeout): it is started through util-linux's `setpriv
/// --pdeathsig KILL`, which asks the kernel to SIGKILL it when its parent goes,
/// and then execs the command in place (same PID). The kernel's "parent" is
/// the thread that forked, so every child is forked from one thread that
/// lives as long as the process (`ThreadExecutor.spawning`), never from a
/// pool thread that may be retired while the child still runs.
public final class ChildProcess: @unchecked Sendable {
    /// The launcher that sets the parent-death signal (util-linux, in every Debian).
    public static let launcher = "/usr/bin/setpriv"

    public let process = Process()
    private let stdoutURL: URL
    private let stderrURL: URL
    private let directory: URL

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                workingDirectory: String? = nil) throws {
        directory = try Paths.makeTemporaryDirectory("bf-proc")
        stdoutURL = directory.appendingPathComponent("stdout")
        stderrURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        // setpriv would report a missing program only as exit status 127: say it here, as Process did.
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            try? FileManager.default.removeItem(at: directory)
            throw ProcessFailure(description: "\(executable) is not an executable file")
        }
        process.executableURL = URL(fileURLWithPath: Self.launcher)
        process.arguments = ["--pdeathsig", "KILL", "--", executable] + arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        do {
            let process = self.process
            try ThreadExecutor.spawning.sync { try process.run() }
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        if process.isRunning { process.terminate(); kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    public var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// Polls standard output until a line satisfies `match`, the process exits, or time runs out.
    /// The deadline is checked as `Waiting.poll` does: a late wake-up never hides a line that came in time.
    public func waitForLine(timeout: Double, where match: (String) -> Bool) async throws -> String {
        enum Outcome { case line(String), exited }
        let outcome = try await Waiting.poll(timeout: timeout) { () -> Outcome? in
            let running = process.isRunning  // read before the output, so an exit cannot hide a last line
            if let line = stdoutLines.first(where: match) { return .line(line) }
            return running ? nil : .exited
        }
        switch outcome {
        case .line(let line)?:
            return line
        case .exited?:
            throw ProcessFailure(description: "process exited (\(process.terminationStatus)) before the expected line; stderr: \(stderr.suffix(2000))")
        case nil:
            throw ProcessFailure(description: "no expected line within \(timeout) s; stdout: \(stdout.suffix(2000)) stderr: \(stderr.suffix(2000))")
        }
    }

    /// Waits for the process to exit; kills it and reports `timedOut` after `timeout` seconds.
    public func wait(timeout: Double) async -> ProcessResult {
        let exited = (try? await Waiting.poll(timeout: timeout, every: .milliseconds(20)) { process.isRunning ? nil : true }) ?? false
        var timedOut = false
        if !exited, process.isRunning {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }

    /// Sends a signal (SIGTERM by default) to this child only.
    public func signal(_ signal: Int32 = SIGTERM) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Runs a command to completion with a time bound.
    public static func run(_ executable: String, _ arguments: [String], timeout: Double = 60,
                           environment: [String: String]? = nil, workingDirectory: String? = nil) async throws -> ProcessResult {
        let child = try ChildProcess(executable, arguments, environment: environment, workingDirectory: workingDirectory)
        return await child.wait(timeout: timeout)
    }

    /// Runs the `bitfountain` binary.
    public static func bitfountain(_ arguments: [String], timeout: Double = 60) async throws -> ProcessResult {
        try await run(Paths.binary, arguments, timeout: timeout)
    }
}
