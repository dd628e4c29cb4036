import Dispatch
import Foundation

/// SIGINT / SIGTERM as an async event, so long-running commands can stop
/// cleanly (save state, close sockets, exit 0) instead of dying mid-write.
/// Create it first thing: from then on the signals are caught, not fatal.
final class TerminationSignals {
    private let stream: AsyncStream<Int32>
    private let sources: [DispatchSourceSignal]

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// Waits for the first SIGINT or SIGTERM; returns its number.
    func next() async -> Int32 {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next() ?? SIGTERM
    }
}
