import Testing

/// `.cpuBound`: a test that keeps a core busy for seconds (simulations, big
/// matrices). Such tests take turns: one at a time.
///
/// Why: Swift Testing runs every test of the process concurrently as tasks on
/// the cooperative pool, which has only as many threads as cores (two here).
/// A test that computes for 36 s holds a pool thread all that time; two such
/// tests hold both, and every other test, the end-to-end tests' waits as much
/// as trivial unit tests, stops until one finishes. Under load that starvation
/// lasted 20–30 s ("passed after 29.75 seconds" for tests that take 1 ms).
/// With this gate at most one pool thread computes; the other keeps serving
/// everyone else. A test waiting at the gate holds no thread: it is suspended.
/// (Moving the body to a thread of its own with a task-executor preference
/// does not work: Swift Testing calls synchronous test functions on the pool.)
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
            try await function()
        } catch {
            await CPUGate.shared.release()
            throw error
        }
        await CPUGate.shared.release()
    }
}

extension Trait where Self == CPUBoundTrait {
    /// Marks a test (or every test of a suite) as CPU-bound: such tests run one at a time.
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
