import ArgumentParser
import BitFountain
import Foundation
import Metainfo
import Synchronization

/// The flags `seed` and `get` share (DESIGN §7): where to listen, how to find
/// peers, where to keep state, how fast to upload.
struct NodeOptions: ParsableArguments {
    @Option(help: "Address to listen on and connect from; 127.0.0.1 keeps every socket on loopback.")
    var bind = "0.0.0.0"

    @Option(help: "TCP port for peers (default: 6881, or the next free one up to 6889; 0 picks any free port).")
    var port: UInt16?

    @Option(name: .customLong("bootstrap"), help: "A DHT node HOST:PORT to join through (repeatable; replaces the default list).")
    var bootstrap: [String] = []

    @Flag(name: .customLong("no-dht"), help: "Don't join the DHT: find peers only through --peer, x.pe in magnet links and incoming connections.")
    var noDHT = false

    @Flag(name: .customLong("no-lsd"), help: "Don't use Local Service Discovery (BEP 14 multicast on the LAN; always off when bound to loopback).")
    var noLSD = false

    @Flag(name: .customLong("no-port-mapping"), help: "Don't ask the router (NAT-PMP) to forward our TCP and DHT ports.")
    var noPortMapping = false

    @Flag(name: .customLong("no-utp"), help: "Don't use uTP (BEP 29): peers connect over TCP only, both ways.")
    var noUTP = false

    @Option(name: .customLong("state-dir"), help: "Where resume data and fetched metadata are kept (default: $XDG_STATE_HOME/bitfountain or ~/.local/state/bitfountain).")
    var stateDirectory: String?

    @Option(name: .customLong("upload-limit"), help: "Upload limit for all peers together in bytes per second, e.g. 500K or 2M (default: none).")
    var uploadLimit: String?

    @Option(help: "MSE/PE encryption: prefer (default: try it out, accept both in), require (RC4 only, both ways) or disable (plaintext only, both ways). See docs/ENCRYPTION.md.")
    var encryption: EncryptionPolicy = .prefer

    @OptionGroup var fountain: FountainOptions

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    func validate() throws {
        _ = try bootstrapNodes()
        _ = try uploadLimitBytes()
    }

    func bootstrapNodes() throws -> [HostPort] {
        do { return try bootstrap.map { try HostPort(parsing: $0) } } catch { throw ValidationError("--bootstrap: \(error)") }
    }

    func uploadLimitBytes() throws -> Int? {
        guard let uploadLimit else { return nil }
        let trimmed = uploadLimit.lowercased().replacingOccurrences(of: "/s", with: "")
        guard let bytes = Format.parseSize(trimmed), bytes > 0 else {
            throw ValidationError("--upload-limit: '\(uploadLimit)' is not a rate (examples: 500K, 2M, 1048576)")
        }
        return bytes
    }

    var resolvedStateDirectory: String { stateDirectory ?? SwarmNode.Options().stateDirectory }

    /// Starts a node listening as asked, and prints the `listening` event.
    func startNode(label: String) async throws -> SwarmNode {
        var options = SwarmNode.Options()
        options.bindHost = bind
        options.port = port
        options.stateDirectory = resolvedStateDirectory
        options.uploadLimit = try uploadLimitBytes()
        options.encryption = encryption
        options.utp = !noUTP
        try fountain.apply(to: &options)
        let json = self.json
        let choice = PeerDiscoveryChoice.choose(bootstrap: try bootstrapNodes(), bindHost: bind, disabled: noDHT)
        let warning: @Sendable (String) -> Void = { text in NodeEventPrinter.print(.warning(text), json: json) }
        var discovery: any PeerDiscovery
        do {
            // The DHT binds first, on --port when one is given, so TCP and uTP can follow it there.
            discovery = try await makePeerDiscovery(choice, bindHost: bind, stateDirectory: resolvedStateDirectory,
                                                    port: port, warning: warning)
        } catch {
            throw CLIError("cannot start the DHT node: \(error)")
        }
        let dhtNode = discovery as? DHTNode
        let lsd = noLSD ? nil : try await LocalServiceDiscovery.start(wrapping: discovery, bindHost: bind, warning: warning)
        if let lsd { discovery = lsd }
        let gateway = portMappingGateway()
        let portMapped = gateway.map { _ in PortMappedDiscovery(wrapping: discovery) }
        if let portMapped { discovery = portMapped }
        options.dhtPort = discovery.dhtPort
        let node = SwarmNode(options: options, discovery: discovery) { event in
            NodeEventPrinter.print(event, json: json)
        }
        lsd?.deliverPeers { [weak node] infoHash, peers in node?.addPeers(peers, for: infoHash) }
        if let dhtNode { node.shareUDP(with: dhtNode) }
        let listeningPort: UInt16
        do { listeningPort = try await node.start() } catch {
            await node.shutdown()
            throw CLIError("\(error)")
        }
        if json {
            JSONOutput.line(ListeningEvent(bind: bind, port: listeningPort, dhtPort: options.dhtPort,
                                           peerId: node.peerID.description, command: label))
        } else {
            let dht = options.dhtPort.map { ", DHT on UDP \($0)" } ?? ", no DHT"
            FileHandle.standardError.write(Data("listening on \(bind == "0.0.0.0" ? "*" : bind):\(listeningPort) (TCP)\(dht)\n".utf8))
        }
        // After the listening line, which comes first on stdout.
        if let portMapped, let gateway {
            await startPortMapping(portMapped, gateway: gateway, tcpPort: listeningPort, udpPort: options.dhtPort)
        }
        if case .none(let reason) = choice, !noDHT {
            NodeEventPrinter.print(.warning("not joining the DHT: \(reason)"), json: json)
        }
        return node
    }
}

extension EncryptionPolicy: ExpressibleByArgument {}

private struct ListeningEvent: Encodable {
    let event = "listening"
    let bind: String
    let port: UInt16
    let dhtPort: UInt16?
    let peerId: String
    let command: String
}

/// Prints node events (metadata arrived, bans, announces, warnings) on stderr, or as JSON lines.
enum NodeEventPrinter {
    static func print(_ event: NodeEvent, json: Bool) {
        switch event {
        case .metadata(let infoHash, let name, let size, let seconds):
            if json { JSONOutput.line(MetadataEvent(infohash: infoHash.hex, name: name, bytes: size, seconds: seconds)) }
            else { line("metadata: \(name) (\(Format.bytes(size))) in \(String(format: "%.3f", seconds)) s") }
        case .peerBanned(let infoHash, let address, let reason):
            if json { JSONOutput.line(BanEvent(infohash: infoHash.hex, peer: address, reason: reason)) }
            else { line("banned peer \(address): \(reason)") }
        case .announced(let infoHash, let nodes):
            if json { JSONOutput.line(AnnouncedEvent(infohash: infoHash.hex, nodes: nodes)) }
            else { line("announced \(infoHash.hex) to \(nodes) DHT node(s)") }
        case .warning(let text):
            if json { JSONOutput.line(WarningEvent(message: text)) }
            else { line("warning: \(text)") }
        }
    }

    /// One line on standard error. On a terminal it first erases the line, so
    /// an event that comes while `get` draws its progress bar replaces the bar
    /// (redrawn below it) instead of running on after it.
    private static func line(_ text: String) {
        let erase = isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data((erase + text + "\n").utf8))
    }

    private struct MetadataEvent: Encodable {
        let event = "metadata"
        let infohash: String
        let name: String
        let bytes: Int64
        let seconds: Double
    }

    private struct BanEvent: Encodable {
        let event = "peer_banned"
        let infohash: String
        let peer: String
        let reason: String
    }

    private struct AnnouncedEvent: Encodable {
        let event = "announced"
        let infohash: String
        let nodes: Int
    }

    private struct WarningEvent: Encodable {
        let event = "warning"
        let message: String
    }
}

/// SIGINT and SIGTERM, counted, so commands can stop cleanly (resume data
/// saved) instead of dying mid-write. One set of dispatch sources for the
/// whole process: libdispatch does not re-arm a signal once its last source
/// is cancelled.
final class StopSignals: Sendable {
    static let shared = StopSignals()
    private let received = Counter()
    private let sources: HeldSources

    private init() {
        let received = self.received
        sources = HeldSources(sources: [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { received.value.add(1, ordering: .relaxed) }
            source.resume()
            return source
        })
    }

    /// Signals received so far; a command notes it at start and stops when it grows.
    var count: Int { received.value.load(ordering: .relaxed) }

    /// Returns once a signal arrives after `seen` signals.
    func wait(after seen: Int) async {
        while count <= seen { try? await Task.sleep(for: .milliseconds(100)) }
    }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Dispatch sources are thread-safe but not marked Sendable; kept for the process's lifetime.
    private final class HeldSources: @unchecked Sendable {
        let sources: [any DispatchSourceSignal]
        init(sources: [any DispatchSourceSignal]) { self.sources = sources }
    }
}
