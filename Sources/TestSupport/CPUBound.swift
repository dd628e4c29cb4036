import Foundation
import Testing

/// `.cpuBound`: a test that keeps a core busy for seconds (simulations, big
/// matrices). Such tests run one at a time, on a thread of their own.
///
/// Why: Swift Testing runs every test of the process concurrently as tasks on
/// the cooperative pool, which has only as many threads as cores (two here).
/// A test that computes for 36 s holds a pool thread all that time; two such
/// tests hold both, and every other test, the end-to-end tests' waits as much
/// as trivial unit tests, stops until one finishes. Under load that starvation
/// lasted 20–30 s ("passed after 29.75 seconds" for tests that take 1 ms).
/// Here the test body runs on a thread of its own (`CPUBoundExecutor`, through
/// a task-executor preference), so the pool keeps both threads for everyone
/// else, and a gate lets one such test in at a time (one core computing); a
/// test waiting at the gate holds no thread at all.
public struct CPUBoundTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public init() {}

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // Applied to a suite, the gate is taken per test, not for the whole suite.
        guard testCase != nil, !test.isSuite else {
            try await function()
            return
        }
        await CPUGate.shared.acquire()
        do {
            try await withTaskExecutorPreference(CPUBoundExecutor.shared) { try await function() }
        } catch {
            await CPUGate.shared.release()
            throw error
        }
        await CPUGate.shared.release()
    }
}

extension Trait where Self == CPUBoundTrait {
    /// Marks a test (or every test of a suite) as CPU-bound: off the cooperative pool, one at a time.
    public static var cpuBound: Self { CPUBoundTrait() }
}

/// A first-come, first-served gate with one place.
actor CPUGate {
    static let shared = CPUGate()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()  // the place passes straight to the next in line
        }
    }
}

/// A task executor that runs its jobs on one thread it owns, outside the cooperative pool.
public final class CPUBoundExecutor: TaskExecutor, @unchecked Sendable {
    public static let shared = CPUBoundExecutor()
    /// The name of its thread (tests check where they run by it).
    public static let threadName = "cpu-bound tests"
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []  // guarded by `condition`

    private init() {
        Thread { [self] in
            // Set from the thread itself: on Linux a new thread otherwise keeps its creator's name.
            Thread.current.name = Self.threadName
            runJobs()
        }.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() -> Never {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
