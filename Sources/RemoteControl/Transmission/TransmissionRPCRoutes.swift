import Hummingbird
import HTTPTypes
import NIOCore

/// `/transmission/rpc`: authentication (Basic, API key or cookie), then the
/// `X-Transmission-Session-Id` handshake (a request without the current id gets
/// 409 and the id in that header; Transmission uses it against CSRF), then the
/// JSON request.
public struct TransmissionRPCRoutes: RemoteControlRoutes {
    public static let path = "/transmission/rpc"
    static let sessionHeader = HTTPField.Name("X-Transmission-Session-Id")!
    let handler: TransmissionRPCHandler

    public init(handler: TransmissionRPCHandler) {
        self.handler = handler
    }

    public func register(on router: Router<RemoteControlContext>, services: RemoteControlServices) {
        let group = router.group(RouterPath(TransmissionRPCRoutes.path)).add(middleware: services.authentication)
        group.post { request, context in try await self.respond(request, context: context) }
        group.get { request, context in try await self.respond(request, context: context) }
    }

    func respond(_ request: Request, context: RemoteControlContext) async throws -> Response {
        var headers: HTTPFields = [TransmissionRPCRoutes.sessionHeader: handler.sessionID]
        guard request.headers[TransmissionRPCRoutes.sessionHeader] == handler.sessionID else {
            headers[.contentType] = "text/html; charset=UTF-8"
            let body = "<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p>"
                + "<p><code>X-Transmission-Session-Id: \(handler.sessionID)</code></p>"
            return Response(status: .conflict, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        guard request.method == .post else {
            throw HTTPError(.methodNotAllowed, message: "POST a JSON request to \(TransmissionRPCRoutes.path)\n")
        }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let reply = await handler.respond(to: Array(buffer: body))
        headers[.contentType] = "application/json; charset=UTF-8"
        return Response(status: reply.malformed ? .badRequest : .ok, headers: headers,
                         body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
