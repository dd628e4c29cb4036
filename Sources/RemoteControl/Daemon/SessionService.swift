import BitFountain
import Logging
import ServiceLifecycle

/// Keeps the `Session` open while the daemon runs, reads its event stream
/// (`SessionEventLog`: logged and counted), and shuts it down (resume data,
/// torrent list and DHT table saved) on graceful shutdown. Listed first in the
/// service group, so it stops last, after the HTTP server and the watch folder.
public struct SessionService: Service {
    let session: Session
    let logger: Logger
    let eventLog: SessionEventLog

    /// `metrics`: where the events are counted (the one `/metrics` serves).
    public init(session: Session, logger: Logger, metrics: NodeMetrics = NodeMetrics()) {
        self.session = session
        self.logger = logger
        eventLog = SessionEventLog(logger: logger, counters: metrics.events)
    }

    public func run() async throws {
        let session = self.session
        let eventLog = self.eventLog
        await withDiscardingTaskGroup { group in
            // Ends when the session shuts down and finishes the stream, after its last events.
            group.addTask { await eventLog.consume(session.events) }
            try? await gracefulShutdown()
            logger.info("shutting the session down")
            await session.shutdown()
            logger.info("session stopped; state saved")
        }
    }
}
