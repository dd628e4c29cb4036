import Identity
import Metainfo
import NIOCore
import Synchronization

/// A node's peer discovery with the mapping of its ports on the home router
/// attached: PCP first, NAT-PMP when the router only speaks that, UPnP IGD
/// when neither maps anything. The mapping is what lets the peers discovery
/// brings (and the DHT nodes it talks to) reach us through a home router, so
/// it lives exactly as long as the discovery: `SwarmNode.shutdown` shuts the
/// discovery down, and that deletes the mappings before the wrapped
/// discovery stops. The external address the router reports goes to the
/// wrapped discovery (the DHT's BEP 42 node ID). Everything else is passed
/// through unchanged.
public final class PortMappedDiscovery: PeerDiscovery {
    private enum Mapper {
        case gateway(NATPMPPortMapper)
        case upnp(UPnPPortMapper)
    }

    private struct State {
        var mapper: Mapper?
        var stopped = false
        /// A mapping was granted by PCP/NAT-PMP: no reason to try UPnP.
        var granted = false
        var triedUPnP = false
    }

    private let inner: any PeerDiscovery
    private let state = Mutex(State())

    public init(wrapping inner: any PeerDiscovery) {
        self.inner = inner
    }

    public var dhtPort: UInt16? { inner.dhtPort }

    /// Maps TCP `tcpPort` (peers) and, if given, UDP `udpPort` (the DHT) on
    /// `gateway`, port 5351, then by UPnP if that maps nothing; `onEvent`
    /// hears the protocol in use, the external address and each mapping as
    /// they come. Call once, after the listener is bound.
    public func startMapping(gateway: SocketAddress, tcpPort: UInt16, udpPort: UInt16?, bindHost: String,
                             onEvent: @escaping NATPMPPortMapper.EventHandler) async throws {
        let mappings = [GatewayMappingClient.Mapping(.tcp, tcpPort)] + (udpPort.map { [.init(.udp, $0)] } ?? [])
        let gatewayIP = gateway.ipAddress.flatMap { IPAddress($0) }
        let handle: NATPMPPortMapper.EventHandler = { [weak self] event in
            guard let self else { return }
            self.observe(event)
            onEvent(event)
            if case .failed(.some, _, _) = event, self.shouldTryUPnP() {
                Task { await self.fallBackToUPnP(mappings: mappings, gateway: gatewayIP, bindHost: bindHost, onEvent: onEvent) }
            }
        }
        onEvent(.using(.pcp))
        // Four tries (under 4 s) rather than RFC 6886's nine: a router that
        // does not answer is asked by UPnP next, not waited on for two minutes.
        var configuration = GatewayMappingClient.Configuration()
        configuration.maxAttempts = 4
        let started = try await NATPMPPortMapper.start(gateway: gateway, mappings: mappings, bindHost: bindHost, pcp: true,
                                                       configuration: configuration, onEvent: handle)
        if !install(.gateway(started)) { await started.stop() }
    }

    /// Notes grants, and hands the external address to the wrapped discovery.
    private func observe(_ event: PortMappingEvent) {
        switch event {
        case .mapped:
            state.withLock { $0.granted = true }
        case .externalAddress(let ip):
            let inner = self.inner
            Task { await inner.externalAddressReported(ip) }
        default:
            break
        }
    }

    /// True once: PCP/NAT-PMP failed a mapping and never granted one.
    private func shouldTryUPnP() -> Bool {
        state.withLock { state in
            guard !state.granted, !state.triedUPnP, !state.stopped else { return false }
            state.triedUPnP = true
            return true
        }
    }

    private func fallBackToUPnP(mappings: [GatewayMappingClient.Mapping], gateway: IPAddress?, bindHost: String,
                                onEvent: @escaping NATPMPPortMapper.EventHandler) async {
        let previous = state.withLock { $0.mapper.take() }
        if case .gateway(let mapper)? = previous { await mapper.stop() }
        let upnp = UPnPPortMapper.start(mappings: mappings, gateway: gateway, bindHost: bindHost) { [weak self] event in
            self?.observe(event)
            onEvent(event)
        }
        if !install(.upnp(upnp)) { await upnp.stop() }
    }

    /// Keeps `mapper` unless the discovery already stopped (then the caller stops it).
    private func install(_ mapper: Mapper) -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            state.mapper = mapper
            return true
        }
    }

    public func findPeers(for infoHash: InfoHash) -> AsyncStream<PeerAddress> { inner.findPeers(for: infoHash) }

    public func announce(_ infoHash: InfoHash, port: UInt16) async -> Int { await inner.announce(infoHash, port: port) }

    public func learnedDHTNode(_ node: PeerAddress) async { await inner.learnedDHTNode(node) }

    public func externalAddressReported(_ address: IPAddress) async { await inner.externalAddressReported(address) }

    public func shutdown() async {
        let running = state.withLock { state in
            state.stopped = true
            return state.mapper.take()
        }
        switch running {
        case .gateway(let mapper)?: await mapper.stop()
        case .upnp(let mapper)?: await mapper.stop()
        case nil: break
        }
        await inner.shutdown()
    }
}
