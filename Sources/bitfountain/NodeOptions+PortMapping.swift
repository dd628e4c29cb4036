import BitFountain
import Foundation

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
