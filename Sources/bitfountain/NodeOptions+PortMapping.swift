import BitFountain
import Foundation
import Identity
import NIOCore

/// `seed` and `get` map their ports on the home router by NAT-PMP (RFC 6886)
/// unless `--no-port-mapping`, and say what the router granted.
extension NodeOptions {
    /// Where to map, or nil: not on loopback (nothing to map), not without an
    /// IPv4 default gateway (no router to ask), not when switched off.
    func portMappingGateway() -> SocketAddress? {
        guard !noPortMapping else { return nil }
        if bind != "0.0.0.0", bind != "::" {
            // NAT-PMP maps IPv4 only.
            guard let ip = IPAddress(bind), ip.family == .v4, !ip.isLoopback else { return nil }
        }
        guard let gateway = NATPMPPortMapper.defaultGateway() else { return nil }
        return try? SocketAddress(ipAddress: gateway.description, port: Int(NATPMPRequest.serverPort))
    }

    func startPortMapping(_ discovery: PortMappedDiscovery, gateway: SocketAddress, tcpPort: UInt16, udpPort: UInt16?) async {
        let json = self.json
        do {
            try await discovery.startMapping(gateway: gateway, tcpPort: tcpPort, udpPort: udpPort, bindHost: bind) { event in
                PortMappingPrinter.print(event, json: json)
            }
        } catch {
            NodeEventPrinter.print(.warning("port mapping is off: \(error)"), json: json)
        }
    }
}

/// Port mapping news on stderr, or as JSON lines (`port_mapping`).
enum PortMappingPrinter {
    static func print(_ event: NATPMPClient.Event, json: Bool) {
        switch event {
        case .externalAddress(let ip):
            if json { JSONOutput.line(Line(externalAddress: ip.description)) }
            else { line("port mapping: the router's external address is \(ip)") }
        case .mapped(let transport, let internalPort, let externalPort, let lifetime):
            if json {
                JSONOutput.line(Line(transport: "\(transport)", internalPort: internalPort, externalPort: externalPort, lifetime: lifetime))
            } else {
                line("port mapping: \(transport) \(internalPort) is reachable as external port \(externalPort) (NAT-PMP, \(lifetime) s, renewed)")
            }
        case .failed(let transport, let internalPort, let reason):
            let what = transport.map { "\($0) \(internalPort)" } ?? "external address"
            NodeEventPrinter.print(.warning("port mapping (NAT-PMP) of \(what): \(reason)"), json: json)
        }
    }

    private static func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private struct Line: Encodable {
        let event = "port_mapping"
        var externalAddress: String?
        var transport: String?
        var internalPort: UInt16?
        var externalPort: UInt16?
        var lifetime: UInt32?
    }
}
