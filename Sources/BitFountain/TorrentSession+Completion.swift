import NIOCore

/// Telling the owner each time the torrent is done, not just the first time: a finished torrent
/// whose skipped file is set back to normal downloads again, and finishes again.
extension TorrentSession {
    /// Calls `handler` on the event loop each time every wanted piece is verified (at once if
    /// that is so now, unless `reportingCurrent` is false: the caller knows of that one), and
    /// once with the failure if the session cannot go on (at once if it already failed).
    /// Stopping the session is neither.
    public func onEachOutcome(reportingCurrent: Bool = true,
                              _ handler: @escaping @Sendable (Result<Void, SessionError>) -> Void) {
        loop.execute {
            if let failure = self.failure {
                handler(.failure(failure))
                return
            }
            if self.completionReported, reportingCurrent { handler(.success(())) }
            self.outcomeHandlers.append(handler)
        }
    }

    /// The machine says every wanted piece is verified (it may say so again for one
    /// completion: a piece that was finishing when its file was skipped). The first time
    /// fulfils `completion`; each completion is told to the handlers once.
    func reportCompletion() {
        completionPromise.succeed()
        guard !completionReported else { return }
        completionReported = true
        for handler in outcomeHandlers { handler(.success(())) }
    }
}
