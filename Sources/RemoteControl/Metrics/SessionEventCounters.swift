import BitFountain
import Prometheus

/// Totals of what happened in the session since the daemon started, counted from its event
/// stream (`SessionEventLog`): what a dashboard turns into rates (completions per hour,
/// failures). The gauges of `NodeMetrics` say how things are; these say how often they changed.
public struct SessionEventCounters: Sendable {
    private let added, removed, completed, failed, peersBanned: Counter

    init(registry: PrometheusCollectorRegistry) {
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "bitfountain", metricName: name,
                                                                  unitName: "total", helpText: help))
        }
        added = counter("torrents_added", "Torrents added (restored ones included)")
        removed = counter("torrents_removed", "Torrents removed")
        completed = counter("torrents_completed", "Times a torrent had every wanted piece verified")
        failed = counter("torrent_errors", "Torrents stopped by a failure")
        peersBanned = counter("peers_banned", "Peers banned for bad data")
    }

    /// Counts one event of the session (most kinds are not counted).
    public func count(_ event: SessionEvent) {
        switch event {
        case .added: added.increment()
        case .restored(let torrents): added.increment(by: Int64(torrents.count))
        case .removed: removed.increment()
        case .completed: completed.increment()
        case .error: failed.increment()
        case .peerBanned: peersBanned.increment()
        case .listening, .metadataReceived, .stateChanged, .announced, .portMapping, .warning, .seedLimitReached: break
        }
    }
}
