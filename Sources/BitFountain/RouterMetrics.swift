import CoreMetrics
import DHT
import Prometheus
import Synchronization

/// The router's Prometheus metrics, through swift-metrics with a
/// swift-prometheus registry of its own (no global bootstrap, so a test
/// process can run several routers). The workers never touch these: they
/// count in plain integers, and `publish` (once a second) adds the
/// differences since the last call.
public final class RouterMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private typealias Reading = @Sendable (RouterCounters) -> Int
    private let queries: [(Reading, CoreMetrics.Counter)]
    private let totals: [(Reading, CoreMetrics.Counter)]
    private let contacts4: CoreMetrics.Gauge
    private let contacts6: CoreMetrics.Gauge
    private let pending: CoreMetrics.Gauge
    private let last = Mutex(RouterCounters())

    public init() {
        let factory = PrometheusMetricsFactory(registry: registry)
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: "bitfountain_router_" + name, dimensions: dimensions, factory: factory)
        }
        let queries: [(Reading, CoreMetrics.Counter)] = [
            ({ $0.pingQueries }, counter("queries_total", [("type", "ping")])),
            ({ $0.findNodeQueries }, counter("queries_total", [("type", "find_node")])),
            ({ $0.getPeersQueries }, counter("queries_total", [("type", "get_peers")])),
            ({ $0.announcePeerQueries }, counter("queries_total", [("type", "announce_peer")])),
            ({ $0.otherQueries }, counter("queries_total", [("type", "other")])),
        ]
        let totals: [(Reading, CoreMetrics.Counter)] = [
            ({ $0.replies }, counter("replies_total")),
            ({ $0.errorReplies }, counter("error_replies_total")),
            ({ $0.droppedMalformed }, counter("dropped_total", [("reason", "malformed")])),
            ({ $0.droppedRateLimited }, counter("dropped_total", [("reason", "rate_limited")])),
            ({ $0.droppedBogon }, counter("dropped_total", [("reason", "bogon")])),
            ({ $0.droppedUnroutable }, counter("dropped_total", [("reason", "unroutable")])),
            ({ $0.droppedOversized }, counter("dropped_total", [("reason", "oversized")])),
            ({ $0.droppedBadCookie }, counter("dropped_total", [("reason", "bad_cookie")])),
            ({ $0.rejectedContacts }, counter("rejected_contacts_total")),
            ({ $0.admissionQueueFull }, counter("admission_queue_full_total")),
            ({ $0.pingsSent }, counter("pings_sent_total")),
            ({ $0.pingsAnswered }, counter("pings_answered_total")),
            ({ $0.pingsSkipped }, counter("pings_skipped_total")),
            ({ $0.contactsAdded }, counter("contacts_admitted_total", [("kind", "added")])),
            ({ $0.contactsReplaced }, counter("contacts_admitted_total", [("kind", "replaced")])),
            ({ $0.contactsRefreshed }, counter("contacts_admitted_total", [("kind", "refreshed")])),
        ]
        self.queries = queries
        self.totals = totals
        contacts4 = CoreMetrics.Gauge(label: "bitfountain_router_contacts", dimensions: [("family", "ipv4")], factory: factory)
        contacts6 = CoreMetrics.Gauge(label: "bitfountain_router_contacts", dimensions: [("family", "ipv6")], factory: factory)
        pending = CoreMetrics.Gauge(label: "bitfountain_router_pending_admissions", factory: factory)
    }

    /// Brings the metrics up to `statistics`.
    public func publish(_ statistics: RouterStatistics) {
        let previous = last.withLock { last in
            defer { last = statistics.counters }
            return last
        }
        for (path, counter) in queries + totals {
            let delta = path(statistics.counters) - path(previous)
            if delta > 0 { counter.increment(by: delta) }
        }
        contacts4.record(statistics.contacts4)
        contacts6.record(statistics.contacts6)
        pending.record(statistics.pendingAdmissions)
    }

    /// The text exposition format, for GET /metrics.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
