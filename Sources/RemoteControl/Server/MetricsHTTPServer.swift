import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A Prometheus endpoint on its own port, for the router (`router --metrics`):
/// GET /metrics answers with `render()`. Hummingbird does the HTTP; this only
/// starts it in the background, reports the bound port and stops it.
public final class MetricsHTTPServer: Sendable {
    public let port: Int
    private let task: Task<Void, any Error>

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func start(host: String, port: Int, logger: Logger = Logger(label: "bitfountain.metrics"),
                             render: @escaping @Sendable () -> [UInt8]) async throws -> MetricsHTTPServer {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: render())))
        }
        let bound = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                              onServerRunning: { channel in
                                  bound.continuation.yield(channel.localAddress?.port ?? port)
                                  bound.continuation.finish()
                              }, logger: logger)
        let task = Task {
            defer { bound.continuation.finish() }
            try await app.run()
        }
        var iterator = bound.stream.makeAsyncIterator()
        guard let actual = await iterator.next() else {
            // The server ended before it listened: report why (a bind failure).
            let result = await task.result
            if case .failure(let error) = result { throw error }
            throw MetricsServerError("the metrics server on \(host):\(port) stopped before it listened")
        }
        return MetricsHTTPServer(port: actual, task: task)
    }

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    /// Stops listening and waits for the server to finish.
    public func close() async {
        task.cancel()
        _ = await task.result
    }
}

public struct MetricsServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
