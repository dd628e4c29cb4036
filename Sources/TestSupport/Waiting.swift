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
/// test slower, never wrong.
public enum Waiting {
    /// Calls `check` every `interval` until it returns a value (returned) or
    /// `timeout` seconds have passed (nil, after one last check).
    public static func poll<T>(timeout: Double, every interval: Duration = .milliseconds(50),
                               _ check: () throws -> T?) async throws -> T? {
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
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int64(timeout * 1_000)))
        while true {
            let expired = clock.now >= deadline
            if let value = try await check() { return value }
            if expired { return nil }
            try await Task.sleep(for: interval)
        }
    }
}
