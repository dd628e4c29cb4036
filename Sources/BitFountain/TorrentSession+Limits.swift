import NIOCore
import PeerWire
import Swarm

/// This torrent's rate limits and file priorities, changed while it runs.
extension TorrentSession {
    /// Sets the torrent's own limits (bytes per second, nil: none); the
    /// node's still apply beside them, and the smaller wins.
    func setLimits(upload: Int?, download: Int?) async {
        try? await loop.submit {
            self.uploadLimiter.bytesPerSecond = upload
            self.downloadBucket.refill(now: SwarmNode.now())
            self.downloadBucket.bytesPerSecond = download
            self.applyDownloadLimits()
        }.get()
    }

    /// Sets one class per file (`PiecePriorities`); takes effect at once.
    func setFilePriorities(_ priorities: [UInt8]) async {
        try? await loop.submit {
            guard !self.stopped else { return }
            self.machine.setFilePriorities(priorities, now: SwarmNode.now())
            self.stir()  // what is wanted, and so done, changed
            // Un-skipped files to fetch: when they are done, that is a completion to tell again.
            if !self.machine.isComplete { self.completionReported = false }
            self.runActions()
            self.flushConnections()
        }.get()
    }

    /// Meters requests when either limit is set, or lets them flow (event loop).
    func applyDownloadLimits() {
        guard !stopped else { return }
        let limited = node.downloadLimiter.bytesPerSecond != nil || downloadBucket.bytesPerSecond != nil
        machine.setDownloadLimited(limited, now: SwarmNode.now())
        runActions()
        flushConnections()
    }

    /// Tops the machine's download allowance up from the node's budget and
    /// this torrent's, by what both have in hand, up to 100 ms of requests at
    /// the smaller rate (a pipeline needs some slack, a burst must stay small).
    /// A torrent that gets nothing queues again for the next round.
    func topUpDownload() {
        guard !stopped, let allowance = machine.downloadAllowance else { return }
        let now = SwarmNode.now()
        let rate = min(node.downloadLimiter.bytesPerSecond ?? .max, downloadBucket.bytesPerSecond ?? .max)
        let ceiling = rate == .max ? blockSize : max(blockSize, rate / 10)
        let grant = min(max(0, ceiling - allowance), node.downloadLimiter.bucket.available(now: now),
                        downloadBucket.available(now: now))
        guard grant > 0 else {
            if machine.requestsHeldBack { node.downloadLimiter.enqueue(self) }
            return
        }
        node.downloadLimiter.bucket.charge(grant, now: now)
        downloadBucket.charge(grant, now: now)
        machine.grantDownload(grant, now: now)
        runActions()
        flushConnections()
    }
}
