import Identity
import Metainfo
import NIOCore
import Synchronization

/// A node's peer discovery with the NAT-PMP mapping of its ports attached.
/// The mapping is what lets the peers discovery brings (and the DHT nodes it
/// talks to) reach us through a home router, so it lives exactly as long as
/// the discovery: `SwarmNode.shutdown` shuts the discovery down, and that
/// deletes the mappings before the wrapped discovery stops. Everything else
/// is passed through unchanged.
public final class PortMappedDiscovery: PeerDiscovery {
    private let inner: any PeerDiscovery
    private let mapper = Mutex<NATPMPPortMapper?>(nil)
    private let stopped = Mutex(false)

    public init(wrapping inner: any PeerDiscovery) {
        self.inner = inner
    }

    public var dhtPort: UInt16? { inner.dhtPort }

    /// Maps TCP `tcpPort` (peers) and, if given, UDP `udpPort` (the DHT) on
    /// `gateway`, port 5351; `onEvent` hears the external address and each
    /// mapping as they come. Call once, after the listener is bound.
    public func startMapping(gateway: SocketAddress, tcpPort: UInt16, udpPort: UInt16?, bindHost: String,
                             onEvent: @escaping NATPMPPortMapper.EventHandler) async throws {
        var mappings = [NATPMPClient.Mapping(.tcp, tcpPort)]
        if let udpPort { mappings.append(.init(.udp, udpPort)) }
        let started = try await NATPMPPortMapper.start(gateway: gateway, mappings: mappings, bindHost: bindHost, onEvent: onEvent)
        let lateStop = stopped.withLock { stopped in
            if !stopped { mapper.withLock { $0 = started } }
            return stopped
        }
        if lateStop { await started.stop() }
    }

    public func findPeers(for infoHash: InfoHash) -> AsyncStream<PeerAddress> { inner.findPeers(for: infoHash) }

    public func announce(_ infoHash: InfoHash, port: UInt16) async -> Int { await inner.announce(infoHash, port: port) }

    public func learnedDHTNode(_ node: PeerAddress) async { await inner.learnedDHTNode(node) }

    public func shutdown() async {
        stopped.withLock { $0 = true }
        if let running = mapper.withLock({ $0.take() }) { await running.stop() }
        await inner.shutdown()
    }
}
