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
/// Here the test body runs on a thread of its own (`ThreadExecutor.cpuBound`),
/// so the pool keeps both threads for everyone else, and a gate lets one such
/// test in at a time (one core computing); a test waiting at the gate holds no
/// thread at all.
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
            try await Self.runOnItsThread(function)
        } catch {
            await CPUGate.shared.release()
            throw error
        }
        await CPUGate.shared.release()
    }

    /// Runs `body` on `ThreadExecutor.cpuBound`, and says so loudly if the
    /// runtime ever starts it anywhere else (rather than silently computing on
    /// a pool thread, which is what starved the suite before).
    static func runOnItsThread(_ body: @Sendable () async throws -> Void) async throws {
        try await ThreadExecutor.cpuBound.run {
            if !ThreadExecutor.cpuBound.isCurrent {
                Issue.record("a .cpuBound test body started off its own thread (on the cooperative pool)")
            }
            try await body()
        }
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
