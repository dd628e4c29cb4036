import HTTPTypes
import Hummingbird

/// Rejects requests whose Host or Origin the `HostPolicy` does not allow
/// (DNS rebinding, cross-site requests from a browser), before anything else runs.
public struct HostOriginMiddleware: RouterMiddleware {
    public typealias Context = RemoteControlContext
    let policy: HostPolicy

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority
        switch policy.check(host: host, origin: request.headers[.origin]) {
        case .allowed:
            return try await next(request, context)
        case .rejected(let reason):
            context.logger.notice("rejected request", metadata: ["reason": "\(reason)"])
            throw HTTPError(.forbidden, message: reason + "\n")
        }
    }
}

/// Refuses a declared body larger than `RemoteControlLimits.maxRequestBodyBytes`
/// with 413 before it is read; bodies without a length are bounded when collected
/// (`RemoteControlContext.maxUploadSize`).
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = RemoteControlContext

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > RemoteControlLimits.maxRequestBodyBytes {
            throw HTTPError(.contentTooLarge,
                            message: "request body of \(length) bytes is over the limit of \(RemoteControlLimits.maxRequestBodyBytes) bytes\n")
        }
        return try await next(request, context)
    }
}
