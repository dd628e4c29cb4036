import BitFountain
import Hummingbird

/// The web UI: its static files at `/` (no login needed to load the page; it asks for one when
/// the API refuses) and `/api/bf/...` behind the same authentication as the qBittorrent API.
public struct WebUIRoutes: RemoteControlRoutes {
    public let assets: WebUIAssets
    public let api: BitFountainAPI

    public init(assets: WebUIAssets, api: BitFountainAPI) {
        self.assets = assets
        self.api = api
    }

    /// The UI over a running session, its files found as `WebUIAssets` finds them.
    public init(session: Session, paths: PathConfinement) {
        self.init(assets: WebUIAssets(), api: BitFountainAPI(session: session, paths: paths))
    }

    public func register(on router: Router<RemoteControlContext>, services: RemoteControlServices) {
        assets.register(on: router)
        let authenticated = router.group().add(middleware: QBAuthenticationMiddleware(inner: services.authentication))
        for method in BitFountainAPI.methods {
            for verb in [HTTPRequest.Method.get, .post] {
                authenticated.on(RouterPath("/api/bf/\(method)"), method: verb) { request, context in
                    let parameters: QBParameters
                    do throws(QBRequestError) {
                        parameters = try await QBittorrentRoutes.parameters(request, context)
                    } catch {
                        return QBittorrentRoutes.response(.failure(error))
                    }
                    return QBittorrentRoutes.response(await api.handle(method, parameters, isPost: verb == .post))
                }
            }
        }
    }
}
