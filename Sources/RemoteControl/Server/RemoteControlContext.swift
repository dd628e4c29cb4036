import Hummingbird
import NIOCore

/// The request context every remote-control route sees: Hummingbird's core
/// storage, the peer's address (the login backoff is kept per address) and, once
/// `AuthenticationMiddleware` has run, who the request was authenticated as.
public struct RemoteControlContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer; nil only in Hummingbird's in-process test framework.
    public let remoteAddress: SocketAddress?
    /// Set by `AuthenticationMiddleware`; nil before it ran or on routes without it.
    public var identity: RemoteIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Bodies are collected up to this size; larger ones get 413 before any handler runs.
    public var maxUploadSize: Int { RemoteControlLimits.maxRequestBodyBytes }
}

/// How a request proved who it is.
public enum RemoteIdentity: Sendable, Equatable {
    /// No credentials are configured and the server listens on loopback only.
    case loopbackWithoutCredentials
    /// HTTP Basic with the configured user name and password (Transmission clients).
    case password(user: String)
    /// `Authorization: Bearer <key>` with one of the configured API keys.
    case apiKey(name: String)
    /// A session cookie from a login (qBittorrent WebAPI, web UI). State-changing
    /// requests made this way must pass the CSRF check.
    case cookie(CookieSession)

    public var isCookie: Bool {
        if case .cookie = self { return true }
        return false
    }
}

/// Limits the HTTP side states and enforces.
public enum RemoteControlLimits {
    /// 16 MiB: a base64 .torrent of a 10,000-file torrent fits many times over.
    public static let maxRequestBodyBytes = 16 * 1024 * 1024
}
