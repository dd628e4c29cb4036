import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Metainfo
import Synchronization

/// Fetches a .torrent file over http(s) for `TorrentSource.url`: at most
/// `Torrent.maxFileSize` bytes (the transfer is cancelled past that, whatever
/// Content-Length claimed), a 200 answer only, within `timeout` seconds.
enum TorrentDownloader {
    static func fetch(_ url: URL, limit: Int = Torrent.maxFileSize, timeout: Double = 30) async throws -> [UInt8] {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw SessionError("\(url): only http and https URLs are fetched")
        }
        let collector = Collector(limit: limit)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration, delegate: collector, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            collector.start(continuation, url: url)
            session.dataTask(with: URLRequest(url: url)).resume()
        }
    }

    /// Gathers the body and ends the wait exactly once.
    private final class Collector: NSObject, URLSessionDataDelegate, Sendable {
        private struct State {
            var body: [UInt8] = []
            var continuation: CheckedContinuation<[UInt8], any Error>?
            var url: URL?
        }
        private let limit: Int
        private let state = Mutex(State())

        init(limit: Int) { self.limit = limit }

        func start(_ continuation: CheckedContinuation<[UInt8], any Error>, url: URL) {
            state.withLock {
                $0.continuation = continuation
                $0.url = url
            }
        }

        private func finish(_ result: Result<[UInt8], any Error>) {
            let continuation = state.withLock { state -> CheckedContinuation<[UInt8], any Error>? in
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume(with: result)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            let url = state.withLock { $0.url?.absoluteString ?? "" }
            if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                finish(.failure(SessionError("\(url): the server answered HTTP \(http.statusCode)")))
                completionHandler(.cancel)
                return
            }
            if response.expectedContentLength > Int64(limit) {
                finish(.failure(SessionError("\(url): \(response.expectedContentLength) bytes is too large for a .torrent (limit \(limit >> 20) MiB)")))
                completionHandler(.cancel)
                return
            }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let (overflow, url) = state.withLock { state -> (Bool, String) in
                state.body.append(contentsOf: data)
                return (state.body.count > limit, state.url?.absoluteString ?? "")
            }
            if overflow {
                finish(.failure(SessionError("\(url): larger than \(limit >> 20) MiB, not a .torrent")))
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            let (body, url) = state.withLock { ($0.body, $0.url?.absoluteString ?? "") }
            if let error {
                finish(.failure(SessionError("\(url): \(error.localizedDescription)")))
            } else {
                finish(.success(body))
            }
        }
    }
}
