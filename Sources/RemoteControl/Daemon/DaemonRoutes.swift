import BitFountain

/// Every dialect the daemon serves on its one port. A new dialect (the
/// qBittorrent WebAPI, the web UI) adds its `RemoteControlRoutes` here.
public enum DaemonRoutes {
    /// `metrics`: the one the daemon's `SessionService` counts events into.
    public static func all(services: RemoteControlServices, configDirectory: String,
                           metrics: NodeMetrics = NodeMetrics()) async -> [any RemoteControlRoutes] {
        let transmission = TransmissionRPCHandler(session: services.session, paths: services.security.paths,
                                                  configDirectory: configDirectory,
                                                  settings: await services.session.currentSettings())
        return [
            TransmissionRPCRoutes(handler: transmission),
            MetricsRoutes(metrics: metrics),
            QBittorrentRoutes(session: services.session, paths: services.security.paths),
            WebUIRoutes(session: services.session, paths: services.security.paths),
        ]
    }
}
