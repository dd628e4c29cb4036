import Foundation

extension Session {
    /// Sets when a torrent stops seeding (recorded and persisted); a torrent already past its
    /// new limit stops at the next check.
    public func setSeedRatioLimit(_ id: TorrentID, _ limit: SeedRatioLimit) throws {
        try ensureRunning()
        _ = try record(id)
        if case .ratio(let ratio) = limit { try Self.checkSeedRatio(ratio) }
        torrents[id]?.seedRatio = limit == .global ? nil : limit
        persist(id)
    }

    /// A ratio a limit may be: a number from 0 up (NaN and infinity are not).
    static func checkSeedRatio(_ ratio: Double) throws(SessionError) {
        guard ratio >= 0, ratio.isFinite else { throw SessionError("a seed ratio limit must be a number from 0 up") }
    }

    /// Whether a complete torrent's share ratio is at or past the limit in force for it.
    func reachedSeedLimit(_ id: TorrentID) -> Bool {
        makeSnapshot(id).map { Self.isPastLimit($0, global: settings.seedRatioLimit) } ?? false
    }

    /// The one test of a seed against its limit, for the periodic check and for a resume.
    static func isPastLimit(_ snapshot: TorrentSnapshot, global: Double?) -> Bool {
        guard snapshot.bytesWanted > 0, snapshot.bytesWantedHave >= snapshot.bytesWanted,
              let limit = snapshot.seedRatioLimit.effective(global: global) else { return false }
        return snapshot.ratio >= limit
    }

    /// How often the running seeds are held against their ratio limits.
    static let seedLimitCheckInterval: Duration = .seconds(5)

    /// Checks the running seeds against their ratio limits every few seconds, until shutdown.
    func startSeedLimitChecks() {
        seedLimitTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.seedLimitCheckInterval)
                guard let self, await self.stopSeedsPastTheirLimit() else { return }
            }
        }
    }

    /// Pauses every running, complete torrent whose share ratio has reached its limit, and
    /// says so on the event stream. False once the session is shut down.
    func stopSeedsPastTheirLimit() async -> Bool {
        guard !isShutDown else { return false }
        let global = settings.seedRatioLimit
        // Nothing to look at unless some limit is set (the usual case: no work at all).
        guard global != nil || torrents.values.contains(where: { $0.kept.seedRatio != nil }) else { return true }
        for snapshot in await list() where snapshot.state == .seeding && Self.isPastLimit(snapshot, global: global) {
            guard (try? await pause(snapshot.id)) != nil else { continue }
            emit(.seedLimitReached(snapshot.id, ratio: snapshot.ratio))
        }
        return true
    }
}
