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

    @Flag(name: .customLong("no-port-mapping"), help: "Don't ask the router (PCP, NAT-PMP or UPnP IGD) to forward our TCP and UDP ports.")
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

    func uploadLimitBytes() throws -> Int? { try Self.rateBytes(uploadLimit, flag: "--upload-limit") }

    /// A rate flag's value in bytes per second ("500K", "2M/s", "1048576"); nil
    /// when the flag is not given. Shared by every rate flag so they read alike.
    static func rateBytes(_ text: String?, flag: String) throws -> Int? {
        guard let text else { return nil }
        let trimmed = text.lowercased().replacingOccurrences(of: "/s", with: "")
        guard let bytes = Format.parseSize(trimmed), bytes > 0 else {
            throw ValidationError("\(flag): '\(text)' is not a rate (examples: 500K, 2M, 1048576)")
        }
        return bytes
    }

    var resolvedStateDirectory: String { stateDirectory ?? SwarmNode.Options().stateDirectory }

    /// The session these flags describe: one-shot (no torrent list kept), the
    /// DHT, LSD and port mapping as asked.
    func sessionConfiguration() throws -> SessionConfiguration {
        var configuration = SessionConfiguration()
        configuration.bindHost = bind
        configuration.port = port
        configuration.bootstrap = try bootstrapNodes()
        configuration.dht = !noDHT
        configuration.localServiceDiscovery = !noLSD
        configuration.portMapping = !noPortMapping
        configuration.utp = !noUTP
        configuration.stateDirectory = resolvedStateDirectory
        configuration.uploadLimit = try uploadLimitBytes()
        configuration.encryption = encryption
        configuration.clientName = "BitFountain/\(BitFountainCLI.configuration.version)"
        try fountain.apply(to: &configuration)
        return configuration
    }

    /// Starts a session listening as asked, prints the `listening` event, and
    /// from then on prints the session's events (metadata, bans, announces,
    /// port mapping, warnings) as they come.
    func startSession(label: String) async throws -> CLISession {
        let session: Session
        do { session = try await Session.start(try sessionConfiguration()) } catch let error as ValidationError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
        if json {
            JSONOutput.line(ListeningEvent(bind: bind, port: session.port, dhtPort: session.dhtPort,
                                           peerId: session.peerID.description, command: label))
        } else {
            let dht = session.dhtPort.map { ", DHT on UDP \($0)" } ?? ", no DHT"
            FileHandle.standardError.write(Data("listening on \(bind == "0.0.0.0" ? "*" : bind):\(session.port) (TCP)\(dht)\n".utf8))
        }
        return CLISession(session: session, json: json)
    }
}

/// A session as the one-shot commands use it: its events printed on stderr
/// (or as JSON lines) by one task, which also notes which torrents completed
/// or failed so a command can wait for that.
final class CLISession: Sendable {
    let session: Session
    private let outcomes: OutcomeBook
    private let printer: Task<Void, Never>

    struct WatchFailure: Error { let reason: String }

    private final class OutcomeBook: Sendable {
        let results = Mutex<[TorrentID: Result<Void, WatchFailure>]>([:])
    }

    init(session: Session, json: Bool) {
        self.session = session
        let outcomes = OutcomeBook()
        self.outcomes = outcomes
        printer = Task {
            var infoHashes: [TorrentID: InfoHash] = [:]
            for await event in session.events {
                switch event {
                case .added(let id, let infoHash, _):
                    infoHashes[id] = infoHash
                case .restored(let torrents):
                    for torrent in torrents { infoHashes[torrent.id] = torrent.infoHash }
                case .metadataReceived(let id, let name, let size, let seconds):
                    guard let infoHash = infoHashes[id] else { break }
                    NodeEventPrinter.print(.metadata(infoHash: infoHash, name: name, size: size, seconds: seconds), json: json)
                case .peerBanned(let id, let address, let reason):
                    guard let infoHash = infoHashes[id] else { break }
                    NodeEventPrinter.print(.peerBanned(infoHash: infoHash, address: address, reason: reason), json: json)
                case .announced(let id, let nodes):
                    guard let infoHash = infoHashes[id] else { break }
                    NodeEventPrinter.print(.announced(infoHash: infoHash, nodes: nodes), json: json)
                case .warning(let text):
                    NodeEventPrinter.print(.warning(text), json: json)
                case .portMapping(let mapping):
                    PortMappingPrinter.print(mapping, json: json)
                case .completed(let id):
                    outcomes.results.withLock { $0[id] = .success(()) }
                case .error(let id, let reason):
                    outcomes.results.withLock { $0[id] = .failure(WatchFailure(reason: reason)) }
                case .listening, .stateChanged, .removed, .seedLimitReached:
                    break
                }
            }
        }
    }

    /// Whether `id` completed (success) or failed (the reason), once it did.
    func outcome(_ id: TorrentID) -> Result<Void, WatchFailure>? { outcomes.results.withLock { $0[id] } }

    /// Adds a torrent; a source that cannot be read, or a start that fails
    /// (content that does not verify, a directory that cannot be written),
    /// is an error here.
    func add(_ source: TorrentSource, options: AddOptions) async throws -> TorrentSnapshot {
        let id: TorrentID
        do { id = try await session.add(source, options: options) } catch { throw CLIError("\(error)") }
        let snapshot = try await session.snapshot(id)
        if snapshot.state == .error { throw CLIError(snapshot.error ?? "cannot start \(snapshot.name)") }
        return snapshot
    }

    /// Stops the session (state saved) and waits until every event is printed.
    func shutdown() async {
        await session.shutdown()
        await printer.value
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
