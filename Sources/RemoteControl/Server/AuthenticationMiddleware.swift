import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Authenticates a request by HTTP Basic (Transmission clients), a bearer API
/// key (programs) or a session cookie (qBittorrent clients, the web UI), and
/// applies the CSRF rule to cookie-authenticated state-changing requests. When
/// the daemon listens on loopback and no credentials exist, every request passes.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = RemoteControlContext
    let security: RemoteSecurity

    public init(security: RemoteSecurity) {
        self.security = security
    }

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.identity = try identify(request, address: context.clientAddress)
        return try await next(request, context)
    }

    func identify(_ request: Request, address: String) throws -> RemoteIdentity {
        if security.openOnLoopback { return .loopbackWithoutCredentials }
        if let authorization = request.headers[.authorization] {
            if let basic = BasicCredentials(header: authorization) {
                switch security.checkPassword(user: basic.user, password: basic.password, address: address) {
                case .success: return .password(user: basic.user)
                case .wrongCredentials: throw AuthenticationMiddleware.unauthorized("wrong user name or password")
                case .throttled(let wait): throw AuthenticationMiddleware.throttled(wait)
                }
            }
            if authorization.lowercased().hasPrefix("bearer ") {
                let token = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
                switch security.checkAPIKey(token, address: address) {
                case .success(let key): return .apiKey(name: key.name)
                case .failure(.wrongCredentials): throw AuthenticationMiddleware.unauthorized("unknown API key")
                case .failure(.throttled(let wait)): throw AuthenticationMiddleware.throttled(wait)
                }
            }
        }
        if let id = request.cookies[CookieSessionStore.cookieName]?.value, let session = security.session(id: id) {
            try CSRFCheck.verify(request, session: session)
            return .cookie(session)
        }
        throw AuthenticationMiddleware.unauthorized("authentication required")
    }

    static func unauthorized(_ reason: String) -> HTTPError {
        HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"BitFountain\""], message: reason + "\n")
    }

    static func throttled(_ wait: TimeAmount) -> HTTPError {
        let seconds = max(1, (wait.nanoseconds + 999_999_999) / 1_000_000_000)
        return HTTPError(.tooManyRequests, headers: [.retryAfter: "\(seconds)"],
                         message: "too many failed logins from this address; retry in \(seconds) s\n")
    }
}

/// `Authorization: Basic base64(user:password)`. Public for the fuzz targets.
public struct BasicCredentials: Equatable, Sendable {
    public let user: String
    public let password: String

    public init?(header: String) {
        guard header.lowercased().hasPrefix("basic ") else { return nil }
        let encoded = header.dropFirst("basic ".count).trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else { return nil }
        user = String(text[..<colon])
        password = String(text[text.index(after: colon)...])
    }
}

/// CSRF for cookie sessions. A state-changing request (anything but GET, HEAD,
/// OPTIONS) that rides on a cookie must echo the session's token in
/// `X-CSRF-Token`. Requests with neither Origin nor Referer are exempt: browsers
/// attach Origin to every cross-site POST, so such a request comes from a
/// program (qbittorrent-api, an *arr application), which a forged page cannot be.
enum CSRFCheck {
    static let headerName = HTTPField.Name("X-CSRF-Token")!

    static func verify(_ request: Request, session: CookieSession) throws {
        switch request.method {
        case .get, .head, .options: return
        default: break
        }
        let fromBrowser = request.headers[.origin] != nil || request.headers[.referer] != nil
        guard fromBrowser else { return }
        guard let token = request.headers[headerName],
              ConstantTime.equal(Array(token.utf8), Array(session.csrfToken.utf8)) else {
            throw HTTPError(.forbidden, message: "missing or wrong X-CSRF-Token for a cookie-authenticated request\n")
        }
    }
}

extension RemoteControlContext {
    /// The client's IP address as text (the login throttle's key).
    public var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
