import Foundation
import Identity
import Metainfo
import NIOCore

/// The parts of a session that face the network besides the peer listener:
/// the DHT node, Local Service Discovery and the port mapping (PCP, NAT-PMP, UPnP IGD), stacked
/// as one `PeerDiscovery` for the swarm. Decided here, once, for every client
/// of the library (the CLI commands and the daemon alike).
struct SessionNetwork: Sendable {
    /// What the swarm announces to and looks peers up in (the stack below, outermost first).
    let discovery: any PeerDiscovery
    let dht: DHTNode?
    let lsd: LocalServiceDiscovery?
    let portMapped: PortMappedDiscovery?
    let gateway: SocketAddress?
    /// Why there is no DHT, when there is none but one was asked for.
    let noDHTReason: String?

    static func start(_ configuration: SessionConfiguration, warning: @escaping @Sendable (String) -> Void) async throws -> SessionNetwork {
        let choice = configuration.dhtOnly
            ? PeerDiscoveryChoice.dht(bootstrap: configuration.bootstrap)
            : PeerDiscoveryChoice.choose(bootstrap: configuration.bootstrap, bindHost: configuration.bindHost,
                                         disabled: !configuration.dht)
        var discovery: any PeerDiscovery
        do {
            // The DHT binds first, on the configured port when there is one, so TCP and uTP can follow it there.
            discovery = try await makePeerDiscovery(choice, bindHost: configuration.bindHost,
                                                    stateDirectory: configuration.stateDirectory,
                                                    port: configuration.port, fixedPort: configuration.dhtOnly, warning: warning)
        } catch {
            throw SessionError("cannot start the DHT node: \(error)")
        }
        let dht = discovery as? DHTNode
        let lsd = configuration.localServiceDiscovery
            ? try await LocalServiceDiscovery.start(wrapping: discovery, bindHost: configuration.bindHost, warning: warning) : nil
        if let lsd { discovery = lsd }
        let gateway = configuration.portMapping ? portMappingGateway(bindHost: configuration.bindHost) : nil
        let portMapped = gateway.map { _ in PortMappedDiscovery(wrapping: discovery) }
        if let portMapped { discovery = portMapped }
        var reason: String?
        if case .none(let why) = choice, configuration.dht { reason = why }
        return SessionNetwork(discovery: discovery, dht: dht, lsd: lsd, portMapped: portMapped, gateway: gateway, noDHTReason: reason)
    }

    /// Where to map, or nil: not on loopback (nothing to map), not without an
    /// IPv4 default gateway (no router to ask).
    static func portMappingGateway(bindHost: String) -> SocketAddress? {
        if bindHost != "0.0.0.0", bindHost != "::" {
            // The mappers here (PCP, NAT-PMP, UPnP IGD) map IPv4 only.
            guard let ip = IPAddress(bindHost), ip.family == .v4, !ip.isLoopback else { return nil }
        }
        guard let gateway = NATPMPPortMapper.defaultGateway() else { return nil }
        return try? SocketAddress(ipAddress: gateway.description, port: Int(NATPMPRequest.serverPort))
    }

    /// Maps the listening ports once they are known; failures are warnings (the node works without).
    func startPortMapping(tcpPort: UInt16, bindHost: String, onEvent: @escaping NATPMPPortMapper.EventHandler,
                          warning: @escaping @Sendable (String) -> Void) async {
        guard let portMapped, let gateway else { return }
        do {
            try await portMapped.startMapping(gateway: gateway, tcpPort: tcpPort, udpPort: discovery.dhtPort,
                                              bindHost: bindHost, onEvent: onEvent)
        } catch {
            warning("port mapping is off: \(error)")
        }
    }
}
