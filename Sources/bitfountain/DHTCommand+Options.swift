import ArgumentParser
import BitFountain
import DHT
import Foundation
import Identity
import Metainfo

/// Options shared by `bitfountain node` and `bitfountain dht …`.
struct DHTNetworkOptions: ParsableArguments {
    @Option(help: "Address to bind (IPv4 or IPv6 literal); default: all IPv4 and IPv6 addresses.")
    var bind: String?

    @Option(name: .customLong("bootstrap"), help: ArgumentHelp("Bootstrap node HOST:PORT (repeatable); replaces the default list.",
                                                                valueName: "host:port"))
    var bootstrap: [String] = []

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    func bootstrapNodes() throws -> [HostPort] {
        guard !bootstrap.isEmpty else { return DefaultBootstrap.nodes }
        return try bootstrap.map { text in
            do { return try HostPort(parsing: text) } catch { throw CLIError("--bootstrap \(text): \(error)") }
        }
    }

    func configuration(port: Int, stateDirectory: String?) throws -> DHTNodeConfiguration {
        var configuration = DHTNodeConfiguration()
        configuration.bindAddress = bind
        if let bind, IPAddress(bind) == nil { throw CLIError("--bind \(bind): expected a numeric IPv4 or IPv6 address") }
        guard (0...65_535).contains(port) else { throw CLIError("--port \(port): must be 0–65535 (0 picks a free port)") }
        configuration.port = port
        configuration.bootstrap = try bootstrapNodes()
        configuration.stateDirectory = stateDirectory
        return configuration
    }
}

/// Resolves HOST:PORT arguments (names allowed) to one node address.
enum NodeAddressArgument {
    static func resolve(_ text: String) async throws -> NodeAddress {
        let hostPort: HostPort
        do { hostPort = try HostPort(parsing: text) } catch { throw CLIError("\(text): \(error)") }
        if let ip = IPAddress(hostPort.host) { return NodeAddress(ip: ip, port: hostPort.port) }
        let resolved = await DHTBootstrapResolver.resolve([hostPort])
        guard let first = resolved.first else { throw CLIError("\(text): cannot resolve \(hostPort.host)") }
        return first
    }
}

/// `--json` records of the DHT commands.
struct NodeRecord: Encodable {
    let id: String
    let address: String
    let tier: String
}

extension NodeRecord {
    init(_ node: TraversalSummary.Node) {
        self.init(id: node.contact.id.hex, address: node.contact.address.description, tier: node.tier.rawValue)
    }
}
