import Hummingbird
import NIOCore
import BitFountain
import Prometheus

/// The daemon's Prometheus metrics (GET /metrics). The gauges are read from
/// the session at scrape time, so nothing runs between scrapes; the event
/// counters are bumped by the daemon's reader of the event stream. A registry
/// of its own (no global bootstrap), as the router's `RouterMetrics`.
public final class NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let torrentsByState: [TorrentState: Gauge]
    private let peers, seeds, downloadRate, uploadRate, downloaded, uploaded: Gauge
    private let dhtNodes, dhtVerified, symbolsReceived, symbolsServed, piecesDecoded, polluted: Gauge
    /// Counted as the session's events come (`SessionEventLog`), not at scrape time.
    public let events: SessionEventCounters

    public init() {
        let registry = self.registry
        func gauge(_ name: String, _ unit: String, _ help: String, labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "bitfountain", metricName: name,
                                                                unitName: unit, helpText: help), labels: labels)
        }
        torrentsByState = Dictionary(uniqueKeysWithValues: TorrentState.allCases.map { state in
            (state, gauge("torrents", "", "Torrents in the session, by state", labels: [("state", state.rawValue)]))
        })
        peers = gauge("peers_connected", "", "Connected peers, all torrents")
        seeds = gauge("seeds_connected", "", "Connected peers that have every piece")
        downloadRate = gauge("download", "bytes_per_second", "Payload download rate")
        uploadRate = gauge("upload", "bytes_per_second", "Payload upload rate")
        downloaded = gauge("downloaded", "bytes", "Payload bytes downloaded by the torrents in the session")
        uploaded = gauge("uploaded", "bytes", "Payload bytes uploaded by the torrents in the session")
        dhtNodes = gauge("dht_nodes", "", "Nodes in the DHT routing tables")
        dhtVerified = gauge("dht_verified_nodes", "", "Routing table nodes with verified signed ids")
        symbolsReceived = gauge("fountain_symbols_received", "", "Repair symbols received and used")
        symbolsServed = gauge("fountain_symbols_served", "", "Repair symbols served")
        piecesDecoded = gauge("fountain_pieces_decoded", "", "Pieces rebuilt from repair symbols")
        polluted = gauge("fountain_polluted_symbols", "", "Wrong repair symbols detected")
        events = SessionEventCounters(registry: registry)
    }

    /// Sets every gauge from the session's state now and returns the exposition text.
    public func render(torrents: [TorrentSnapshot], dht: DHTNodeStatistics?) -> [UInt8] {
        for (state, gauge) in torrentsByState {
            gauge.set(Int64(torrents.count { $0.state == state }))
        }
        func sum(_ reading: (TorrentSnapshot) -> Int64) -> Int64 { torrents.reduce(0) { $0 + reading($1) } }
        peers.set(sum { Int64($0.peersConnected) })
        seeds.set(sum { Int64($0.seedsConnected) })
        downloadRate.set(torrents.reduce(0) { $0 + $1.downloadRate })
        uploadRate.set(torrents.reduce(0) { $0 + $1.uploadRate })
        downloaded.set(sum(\.downloadedEver))
        uploaded.set(sum(\.uploadedEver))
        dhtNodes.set(Int64(dht?.tableSize ?? 0))
        dhtVerified.set(Int64(dht?.verifiedNodes ?? 0))
        symbolsReceived.set(sum { Int64($0.fountain.symbolsReceived) })
        symbolsServed.set(sum { Int64($0.fountain.symbolsServed) })
        piecesDecoded.set(sum { Int64($0.fountain.piecesDecoded) })
        polluted.set(sum { Int64($0.fountain.pollutedSymbols) })
        return registry.emitToBuffer()
    }
}

/// GET /metrics on the daemon's own port, behind the same authentication as
/// the RPC (a Prometheus job can send an API key as a bearer token).
public struct MetricsRoutes: RemoteControlRoutes {
    let metrics: NodeMetrics

    public init(metrics: NodeMetrics = NodeMetrics()) {
        self.metrics = metrics
    }

    public func register(on router: Router<RemoteControlContext>, services: RemoteControlServices) {
        router.group("/metrics").add(middleware: services.authentication).get { _, _ in
            let session = services.session
            let body = metrics.render(torrents: await session.list(), dht: await session.dht?.statistics())
            return Response(status: .ok, headers: [.contentType: MetricsHTTPServer.contentType],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
