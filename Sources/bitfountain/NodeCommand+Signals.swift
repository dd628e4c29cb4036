import Dispatch
import Foundation

/// SIGINT / SIGTERM as an async event, so long-running commands can stop
/// cleanly (save state, close sockets, exit 0) instead of dying mid-write.
enum TerminationSignals {
    /// Waits for the first SIGINT or SIGTERM; returns its number.
    static func wait() async -> Int32 {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        var iterator = stream.makeAsyncIterator()
        let received = await iterator.next() ?? SIGTERM
        for source in sources { source.cancel() }
        return received
    }
}
