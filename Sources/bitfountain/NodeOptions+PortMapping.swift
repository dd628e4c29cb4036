import BitFountain
import Foundation
import Identity
import NIOCore

/// `seed` and `get` map their ports on the home router (PCP, NAT-PMP, then
/// UPnP IGD) unless `--no-port-mapping`, say what the router granted, and
/// tell the node the external address it reported.
extension NodeOptions {
    /// Where to map, or nil: not on loopback (nothing to map), not without an
    /// IPv4 default gateway (no router to ask), not when switched off.
    func portMappingGateway() -> SocketAddress? {
        guard !noPortMapping else { return nil }
        if bind != "0.0.0.0", bind != "::" {
            // The mappers here map IPv4 only.
            guard let ip = IPAddress(bind), ip.family == .v4, !ip.isLoopback else { return nil }
        }
        guard let gateway = NATPMPPortMapper.defaultGateway() else { return nil }
        return try? SocketAddress(ipAddress: gateway.description, port: Int(NATPMPRequest.serverPort))
    }

    func startPortMapping(_ discovery: PortMappedDiscovery, node: SwarmNode, gateway: SocketAddress, tcpPort: UInt16,
                          udpPort: UInt16?) async {
        let json = self.json
        do {
            try await discovery.startMapping(gateway: gateway, tcpPort: tcpPort, udpPort: udpPort, bindHost: bind) { [weak node] event in
                if case .externalAddress(let ip) = event { node?.externalAddressReported(ip) }
                PortMappingPrinter.print(event, json: json)
            }
        } catch {
            NodeEventPrinter.print(.warning("port mapping is off: \(error)"), json: json)
        }
    }
}

/// Port mapping news on stderr, or as JSON lines (`port_mapping`).
enum PortMappingPrinter {
    static func print(_ event: PortMappingEvent, json: Bool) {
        switch event {
        case .using(let name):
            if json { JSONOutput.line(Line(protocol: name.rawValue)) }
            else { line("port mapping: asking the router by \(name.rawValue)") }
        case .externalAddress(let ip):
            if json { JSONOutput.line(Line(externalAddress: ip.description)) }
            else { line("port mapping: the router's external address is \(ip)") }
        case .mapped(let transport, let internalPort, let externalPort, let lifetime):
            if json {
                JSONOutput.line(Line(transport: "\(transport)", internalPort: internalPort, externalPort: externalPort, lifetime: lifetime))
            } else {
                line("port mapping: \(transport) \(internalPort) is reachable as external port \(externalPort) (lease \(lifetime) s, renewed)")
            }
        case .failed(let transport, let internalPort, let reason):
            let what = transport.map { "\($0) \(internalPort)" } ?? "external address"
            NodeEventPrinter.print(.warning("port mapping of \(what): \(reason)"), json: json)
        }
    }

    private static func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private struct Line: Encodable {
        let event = "port_mapping"
        var `protocol`: String?
        var externalAddress: String?
        var transport: String?
        var internalPort: UInt16?
        var externalPort: UInt16?
        var lifetime: UInt32?
    }
}
