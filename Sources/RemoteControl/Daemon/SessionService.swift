import BitFountain
import Logging
import ServiceLifecycle

/// Keeps the `Session` open while the daemon runs and shuts it down (resume
/// data, torrent list and DHT table saved) on graceful shutdown. Listed first
/// in the service group, so it stops last, after the HTTP server and the watch folder.
public struct SessionService: Service {
    let session: Session
    let logger: Logger

    public init(session: Session, logger: Logger) {
        self.session = session
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting the session down")
        await session.shutdown()
        logger.info("session stopped; state saved")
    }
}
