import BitFountain
import Hummingbird
import NIOCore

/// Puts the qBittorrent WebAPI v2 on the daemon's router under `/api/v2/`. Every method answers
/// GET and POST (qbittorrent-api posts everything; browsers and curl often GET), with
/// parameters from the query and the body. Authentication is the server's (`SID` cookie from
/// `auth/login`, Basic, API keys, CSRF for browsers); this maps its refusals to qBittorrent's
/// 403, which Sonarr and Radarr take as "log in again".
public struct QBittorrentRoutes: RemoteControlRoutes {
    public static let csrfCookieName = "bf_csrf"

    public let api: QBittorrentAPI

    public init(api: QBittorrentAPI) {
        self.api = api
    }

    /// The dialect over a running session, as the daemon serves it: categories and tags kept in
    /// the session's state directory, save paths confined to `paths`.
    public init(session: Session, paths: PathConfinement) {
        let labels = QBLabelStore(stateDirectory: session.configuration.stateDirectory)
        self.init(api: QBittorrentAPI(backend: QBSessionBackend(session: session, labels: labels, paths: paths)))
    }

    public func register(on router: Router<RemoteControlContext>, services: RemoteControlServices) {
        let security = services.security
        for verb in [HTTPRequest.Method.get, .post] {
            router.on("/api/v2/auth/login", method: verb) { request, context in
                try await Self.logIn(request, context, security: security)
            }
            router.on("/api/v2/auth/logout", method: verb) { request, _ in
                if let id = request.cookies[CookieSessionStore.cookieName]?.value { security.logout(sessionID: id) }
                return Self.plain(.ok, "")
            }
        }
        let authenticated = router.group().add(middleware: QBAuthenticationMiddleware(inner: services.authentication))
        for method in QBittorrentAPI.methods {
            for verb in [HTTPRequest.Method.get, .post] {
                authenticated.on(RouterPath("/api/v2/\(method)"), method: verb) { request, context in
                    let parameters: QBParameters
                    do throws(QBRequestError) {
                        parameters = try await Self.parameters(request, context)
                    } catch {
                        return Self.response(.failure(error))
                    }
                    return Self.response(await api.handle(method, parameters))
                }
            }
        }
    }

    /// Decodes query and body once; bodies are bounded by the server's upload limit.
    static func parameters(_ request: Request, _ context: RemoteControlContext) async throws(QBRequestError) -> QBParameters {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw .malformedBody("body over \(context.maxUploadSize) bytes or unreadable")
        }
        return try QBParameters(query: request.uri.query, contentType: request.headers[.contentType], body: body)
    }

    /// qBittorrent's login: "Ok." and a `SID` cookie, or "Fails." (status 200, which every
    /// client version understands). The CSRF token rides in a script-readable cookie for the
    /// web UI, which must echo it in `X-CSRF-Token`.
    static func logIn(_ request: Request, _ context: RemoteControlContext, security: RemoteSecurity) async throws -> Response {
        let parameters: QBParameters
        do throws(QBRequestError) {
            parameters = try await Self.parameters(request, context)
        } catch {
            return Self.response(.failure(error))
        }
        switch security.login(user: parameters["username"] ?? "", password: parameters["password"] ?? "",
                              address: context.clientAddress) {
        case .success(let session):
            var response = plain(.ok, "Ok.")
            response.setCookie(Cookie(name: CookieSessionStore.cookieName, value: session.id, path: "/", httpOnly: true))
            response.setCookie(Cookie(name: csrfCookieName, value: session.csrfToken, path: "/", httpOnly: false))
            return response
        case .failure(.wrongCredentials):
            return plain(.ok, "Fails.")
        case .failure(.throttled):
            return plain(.forbidden, "Your IP address has been banned after too many failed authentication attempts.")
        }
    }

    static func response(_ result: QBResponse) -> Response {
        switch result {
        case .text(let text): return plain(.ok, text)
        case .json(let json):
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: json.encoded())))
        case .torrentFile(let bytes):
            return Response(status: .ok, headers: [.contentType: "application/x-bittorrent"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .failure(let error):
            return plain(HTTPResponse.Status(code: error.status), error.message)
        }
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=UTF-8"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The server's authentication, with "not authenticated" answered as qBittorrent does: 403
/// "Forbidden" (qbittorrent-api's Forbidden403Error; the *arr applications then log in again).
struct QBAuthenticationMiddleware: RouterMiddleware {
    typealias Context = RemoteControlContext
    let inner: AuthenticationMiddleware

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let identified: Context
        do {
            var copy = context
            copy.identity = try inner.identify(request, address: context.clientAddress)
            identified = copy
        } catch let error as HTTPError where error.status == .unauthorized {
            return QBittorrentRoutes.plain(.forbidden, "Forbidden")
        }
        return try await next(request, identified)
    }
}
