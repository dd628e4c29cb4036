/// Polling with deadlines that hold on a busy machine.
///
/// Tests run as tasks on Swift's cooperative thread pool, which has one thread
/// per core. When CPU-bound tests hold those threads, a task that sleeps 50 ms
/// may wake up tens of seconds later. A loop of the form "while now < deadline
/// { check; sleep }" then gives up without looking again: the condition may
/// have come true long before the deadline, but the last check was made before
/// the long sleep. That is how end-to-end tests that pass in seconds alone
/// failed with "no expected line within 30 s" under load.
///
/// `Waiting.poll` reads the (monotonic) clock *before* each check, so the check
/// that ends a wait always comes after the deadline: a late wake-up can make a
/// test slower, never wrong. And its loop runs on a thread of its own
/// (`ThreadExecutor.waiting`), not on the pool: its sleeps end, and its checks
/// run, on time however busy the pool is, so a line that came in time is seen
/// in time and a child that overstays is killed at its deadline.
public enum Waiting {
    /// Calls `check` every `interval` until it returns a value (returned) or
    /// `timeout` seconds have passed (nil, after one last check).
    public static func poll<T>(timeout: Double, every interval: Duration = .milliseconds(50),
                               _ check: () throws -> T?) async throws -> T? {
        try await onWaitingThread {
            try await loop(timeout: timeout, every: interval, check)
        }
    }

    private static func loop<T>(timeout: Double, every interval: Duration, _ check: () throws -> T?) async throws -> T? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int64(timeout * 1_000)))
        while true {
            let expired = clock.now >= deadline
            if let value = try check() { return value }
            if expired { return nil }
            try await Task.sleep(for: interval)
        }
    }

    /// Like `poll`, for a check that is itself asynchronous (an HTTP request, say).
    public static func pollAsync<T>(timeout: Double, every interval: Duration = .milliseconds(50),
                                    _ check: () async throws -> T?) async throws -> T? {
        try await onWaitingThread {
            try await loopAsync(timeout: timeout, every: interval, check)
        }
    }

    private static func loopAsync<T>(timeout: Double, every interval: Duration,
                                     _ check: () async throws -> T?) async throws -> T? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int64(timeout * 1_000)))
        while true {
            let expired = clock.now >= deadline
            if let value = try await check() { return value }
            if expired { return nil }
            try await Task.sleep(for: interval)
        }
    }

    /// Runs `operation` with `ThreadExecutor.waiting` as its task executor.
    /// The preference takes effect when the task is next enqueued: the yield
    /// makes that happen at once, so even the first check runs there; every
    /// sleep then resumes there too. (A check that is isolated to an actor
    /// still runs on that actor; the loop comes back here after it.)
    private static func onWaitingThread<T>(_ operation: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(ThreadExecutor.waiting) {
            await Task.yield()
            return try await operation()
        }
    }
}
