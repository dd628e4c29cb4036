import Logging
import Synchronization

/// swift-log for the daemon: one stderr handler, bootstrapped once per process
/// (LoggingSystem allows one bootstrap), at the level `--log-level` asks.
enum DaemonLogging {
    private static let bootstrapped = Mutex(false)

    static func logger(level: Logger.Level) -> Logger {
        bootstrapped.withLock { done in
            if !done {
                LoggingSystem.bootstrap(StreamLogHandler.standardError)
                done = true
            }
        }
        var logger = Logger(label: "bitfountain.daemon")
        logger.logLevel = level
        return logger
    }
}
