import Foundation

/// A task executor that runs its jobs on one thread it owns, outside Swift's
/// cooperative pool. Tests use two: one for `.cpuBound` test bodies
/// (`ThreadExecutor.cpuBound`) and one for the waits of end-to-end tests
/// (`ThreadExecutor.waiting`), so that neither can be starved by, or starve,
/// the tasks on the pool.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// Runs `.cpuBound` test bodies (see `CPUBoundTrait`).
    public static let cpuBound = ThreadExecutor(name: "cpu-bound tests")
    /// Runs `Waiting.poll` loops: line readers, exit waits and their deadlines.
    public static let waiting = ThreadExecutor(name: "test waits")
    /// Starts every child process of the tests (see `ChildProcess`): a thread
    /// that lives as long as the process, because Linux sends a child its
    /// parent-death signal when the *thread* that started it ends.
    public static let spawning = ThreadExecutor(name: "test spawns")

    /// The name of its thread (at most 15 bytes: Linux truncates thread names).
    public let name: String
    private let condition = NSCondition()
    private enum Work {
        case job(UnownedJob)
        case block(() -> Void)
    }
    private var work: [Work] = []  // guarded by `condition`
    private var thread: pthread_t?  // guarded by `condition`; set once by the thread itself

    private init(name: String) {
        self.name = name
        let started = DispatchSemaphore(value: 0)
        Thread { [self] in
            // Set from the thread itself, for the kernel (/proc/…/comm, debuggers, crash reports).
            // (pthread_setname_np is not visible to Swift on Linux; this is what it does.)
            try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            condition.lock()
            thread = pthread_self()
            condition.unlock()
            started.signal()
            runJobs()
        }.start()
        started.wait()  // `isCurrent` is meaningful from the first job on
    }

    /// True when the caller runs on this executor's thread.
    public var isCurrent: Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        work.append(.job(job))
        condition.signal()
        condition.unlock()
    }

    /// Runs a synchronous `body` on this executor's thread and waits for it.
    /// (`body` is escaping because the thread may hold on to it a moment after
    /// it ran; the caller still waits for its result.)
    public func sync<T>(_ body: @escaping () throws -> T) throws -> T {
        if isCurrent { return try body() }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, any Error>?
        condition.lock()
        work.append(.block {
            result = Result { try body() }
            done.signal()
        })
        condition.signal()
        condition.unlock()
        done.wait()
        return try result!.get()
    }

    private func runJobs() -> Never {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            let next = work.removeFirst()
            condition.unlock()
            switch next {
            case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
            case .block(let block): block()
            }
        }
    }

    /// Runs `operation` on this executor's thread, and every job of it (and of
    /// its child tasks) that is not isolated to an actor.
    ///
    /// Why not just `withTaskExecutorPreference`: a preference only takes effect
    /// when the task is next *enqueued*. A nonisolated closure called from
    /// nonisolated code is entered without any hop, so the operation starts on
    /// the calling pool thread and stays there until its first real suspension
    /// (which never comes for a test that computes without awaiting). An
    /// `async let` child is created by enqueueing it, and a child inherits its
    /// parent's preference, so its first instruction already runs here.
    public func run<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(self) {
            async let result = operation()
            return try await result
        }
    }
}
