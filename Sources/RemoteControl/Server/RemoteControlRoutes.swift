import Hummingbird
import Logging

/// The seam between the server and each dialect (Transmission RPC, qBittorrent
/// WebAPI, web UI, /metrics): a dialect registers its routes on the shared
/// router and picks which of the shared middlewares guard them.
public protocol RemoteControlRoutes: Sendable {
    func register(on router: Router<RemoteControlContext>, services: RemoteControlServices)
}

/// What every dialect shares: the security services and the logger. The
/// library `Session` is added here once it lands (issue 13, item 1).
public struct RemoteControlServices: Sendable {
    public let security: RemoteSecurity
    public let logger: Logger

    public init(security: RemoteSecurity, logger: Logger) {
        self.security = security
        self.logger = logger
    }

    /// Authentication for routes that need it: Basic, Bearer or session cookie,
    /// and the CSRF check for cookie-authenticated state-changing requests.
    public var authentication: AuthenticationMiddleware { AuthenticationMiddleware(security: security) }
}
