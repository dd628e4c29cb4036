import Foundation
import Testing
import TestSupport

/// The waiting code every end-to-end test relies on: it must hold on a busy machine.
@Suite struct WaitingTests {
    /// A waiter that wakes up long after its deadline (as on a starved thread
    /// pool) still sees a condition that came true before the deadline.
    @Test func aLateWakeUpStillLooksOnceMoreAfterTheDeadline() async throws {
        let start = ContinuousClock.now
        // True from 100 ms on; the deadline is at 200 ms, but the waiter only looks every 1 s.
        let found = try await Waiting.poll(timeout: 0.2, every: .seconds(1)) {
            ContinuousClock.now - start >= .milliseconds(100) ? true : nil
        }
        #expect(found == true)
    }

    @Test func aConditionThatNeverHoldsTimesOut() async throws {
        let start = ContinuousClock.now
        let found: Bool? = try await Waiting.poll(timeout: 0.1, every: .milliseconds(20)) { nil }
        #expect(found == nil)
        #expect(ContinuousClock.now - start >= .milliseconds(100))
    }

    @Test func aLineIsFoundAndAnExitIsReported() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo first; echo ready; exit 3"])
        let line = try await child.waitForLine(timeout: 30) { $0.hasPrefix("ready") }
        #expect(line == "ready")
        let missing = try ChildProcess("/bin/sh", ["-c", "echo other"])
        await #expect(throws: ProcessFailure.self) { try await missing.waitForLine(timeout: 30) { $0 == "never" } }
        #expect(await child.wait(timeout: 30).status == 3)
    }

    @Test func waitKillsAChildThatOverstaysAndReportsIt() async throws {
        // Far longer than any stall of a busy machine: a child that ends by itself
        // before the late check would read as "not timed out".
        let child = try ChildProcess("/bin/sleep", ["3600"])
        let result = await child.wait(timeout: 0.2)
        #expect(result.timedOut)
        #expect(!child.isRunning)
    }

    /// `.cpuBound` tests compute on their own thread, never on a cooperative-pool
    /// thread: from their first instruction (a test that never awaits must not
    /// hold a pool thread either), after a sleep, after a call into an actor, and
    /// in a child task.
    @Test(.cpuBound) func cpuBoundTestsRunOnTheirOwnThread() async throws {
        #expect(Self.threadName() == ThreadExecutor.cpuBound.name)
        #expect(ThreadExecutor.cpuBound.isCurrent)
        try await Task.sleep(for: .milliseconds(1))
        #expect(ThreadExecutor.cpuBound.isCurrent)
        _ = await OverlapMeter().entered
        #expect(ThreadExecutor.cpuBound.isCurrent)
        async let inChild = ThreadExecutor.cpuBound.isCurrent
        #expect(await inChild)
    }

    /// The kernel's name for the thread running the caller. (Not `Thread.current.name`:
    /// Foundation's `Thread.current` is not for async code, and read there it has
    /// given a pool thread's name on the very thread `isCurrent` identifies as ours.)
    private static func threadName() -> String? {
        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
            .trimmingCharacters(in: .newlines)
    }

    /// The waits of end-to-end tests run on their own thread, off the pool:
    /// the first check as much as the ones after a sleep.
    @Test func waitsCheckOnTheirOwnThread() async throws {
        var checks: [Bool] = []
        let done = try await Waiting.poll(timeout: 30, every: .milliseconds(1)) { () -> Bool? in
            checks.append(ThreadExecutor.waiting.isCurrent)
            return checks.count == 3 ? true : nil
        }
        #expect(done == true)
        #expect(checks == [true, true, true])
        var asyncChecks: [Bool] = []
        _ = try await Waiting.pollAsync(timeout: 30, every: .milliseconds(1)) { () async -> Bool? in
            asyncChecks.append(ThreadExecutor.waiting.isCurrent)
            return asyncChecks.count == 2 ? true : nil
        }
        #expect(asyncChecks == [true, true])
    }

    /// With every pool thread blocked (as by CPU-bound work that is not marked
    /// `.cpuBound`), a wait still sees its line and meets its deadline: the
    /// waiting loop does not need the pool.
    @Test func aWaitMeetsItsDeadlineWhileThePoolIsBlocked() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo ready; exec sleep 3600"])
        defer { child.signal(SIGKILL) }
        let width = ProcessInfo.processInfo.activeProcessorCount  // the pool has one thread per core
        let blocker = PoolBlocker()
        let blockers = (0..<width).map { _ in Task.detached { blocker.block() } }
        // From here on only the waiting thread is sure to run: the whole measurement
        // stays on it, and it opens the pool again before coming back.
        let (blockedAll, line, missing, elapsed) = try await ThreadExecutor.waiting.run {
            let blockedAll = blocker.waitUntilBlocked(width, timeout: 30)
            let started = ContinuousClock.now
            let line = try await child.waitForLine(timeout: 30) { $0 == "ready" }
            let missing = (try? await child.waitForLine(timeout: 0.5) { $0 == "never" }) == nil
            let elapsed = ContinuousClock.now - started
            blocker.open()
            return (blockedAll, line, missing, elapsed)
        }
        for task in blockers { await task.value }
        #expect(blockedAll)
        #expect(line == "ready")
        #expect(missing)
        #expect(elapsed < .seconds(10))
    }

    /// `.cpuBound` scopes never overlap, however many are entered at once.
    @Test func cpuBoundTestsTakeTurns() async throws {
        let test = try #require(Test.current)
        let meter = OverlapMeter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await CPUBoundTrait().provideScope(for: test, testCase: Test.Case.current) {
                        await meter.enter()
                        try await Task.sleep(for: .milliseconds(20))
                        await meter.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await meter.entered == 4)
        #expect(await meter.mostAtOnce == 1)
    }
}

private actor OverlapMeter {
    private(set) var entered = 0
    private(set) var mostAtOnce = 0
    private var inside = 0

    func enter() {
        entered += 1
        inside += 1
        mostAtOnce = max(mostAtOnce, inside)
    }

    func leave() { inside -= 1 }
}

/// Blocks the threads it is called on (pool threads, from detached tasks) until opened.
private final class PoolBlocker: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false  // guarded by `condition`
    private var blocked = 0  // guarded by `condition`

    func block() {
        condition.lock()
        blocked += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(60)  // bounded even if the test fails before opening
        while !isOpen, condition.wait(until: deadline) {}
        condition.unlock()
    }

    /// True once `count` threads are blocked; false if that takes longer than `timeout`.
    func waitUntilBlocked(_ count: Int, timeout: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while blocked < count, condition.wait(until: deadline) {}
        return blocked >= count
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}
