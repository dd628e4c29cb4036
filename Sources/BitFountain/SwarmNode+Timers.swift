import Metainfo
import NIOCore

/// One tick timer and one endgame refill timer for the whole node, instead of
/// a pair per torrent: ten thousand seeding torrents each with a 1 s tick and a
/// 100 ms refill timer were 110,000 timer wake-ups a second on the event loop,
/// nearly all of them for torrents with nothing to do.
extension SwarmNode {
    /// Starts both timers with the first session (event loop).
    func startTimersIfNeeded() {
        loop.preconditionInEventLoop()
        guard tickTask == nil else { return }
        tickTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in self.tickSessions() }
        refillTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            self.refillSessions()
        }
    }

    func stopTimers() {
        tickTask?.cancel()
        refillTask?.cancel()
        tickTask = nil
        refillTask = nil
    }

    /// Each session's once-a-second work (rates, timeouts, choking, dialling, resume saves).
    private func tickSessions() {
        for session in sessions.values { session.tick() }
    }

    /// Requests out again between ticks for the sessions in their endgame, which have peers:
    /// ten times a second, so not a visit to each of ten thousand idle seeds.
    private func refillSessions() {
        var withoutPeers: [InfoHash] = []
        for infoHash in sessionsWithPeers {
            guard let session = sessions[infoHash], session.hasConnections else {
                withoutPeers.append(infoHash)
                continue
            }
            session.refillInEndgame()
        }
        sessionsWithPeers.subtract(withoutPeers)
    }
}
