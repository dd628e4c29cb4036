import Hummingbird
import Logging
import NIOCore

/// Builds the daemon's one HTTP application: the DNS-rebinding and body-size
/// guards in front of everything, then every dialect's routes.
public enum RemoteControlServer {
    public static func makeRouter(services: RemoteControlServices,
                                  routes: [any RemoteControlRoutes]) -> Router<RemoteControlContext> {
        let router = Router(context: RemoteControlContext.self)
        router.add(middleware: HostOriginMiddleware(policy: services.security.hostPolicy))
        router.add(middleware: BodyLimitMiddleware())
        for group in routes { group.register(on: router, services: services) }
        return router
    }

    public static func makeApplication(host: String, port: Int, services: RemoteControlServices,
                                       routes: [any RemoteControlRoutes],
                                       onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol {
        Application(router: makeRouter(services: services, routes: routes),
                    configuration: .init(address: .hostname(host, port: port), serverName: "BitFountain"),
                    onServerRunning: onServerRunning,
                    logger: services.logger)
    }
}
