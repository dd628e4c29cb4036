import BitFountain
import Hummingbird
import Logging

/// The seam between the server and each dialect (Transmission RPC, qBittorrent
/// WebAPI, web UI, /metrics): a dialect registers its routes on the shared
/// router and picks which of the shared middlewares guard them.
public protocol RemoteControlRoutes: Sendable {
    func register(on router: Router<RemoteControlContext>, services: RemoteControlServices)
}

/// What every dialect shares: the session it controls, the security services
/// (authentication, download roots) and the logger.
public struct RemoteControlServices: Sendable {
    public let session: Session
    public let security: RemoteSecurity
    public let logger: Logger

    public init(session: Session, security: RemoteSecurity, logger: Logger) {
        self.session = session
        self.security = security
        self.logger = logger
    }

    /// Authentication for routes that need it: Basic, Bearer or session cookie,
    /// and the CSRF check for cookie-authenticated state-changing requests.
    public var authentication: AuthenticationMiddleware { AuthenticationMiddleware(security: security) }
}
