import ArgumentParser
import BitFountain
import Foundation
import Hummingbird
import Logging
import RemoteControl
import ServiceLifecycle

/// `bitfountain daemon`: a persistent session controlled over HTTP —
/// Transmission RPC at /transmission/rpc, Prometheus at /metrics (DESIGN §11).
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run a persistent node controlled over HTTP (Transmission RPC, /metrics).",
        discussion: """
        The torrent list, settings and resume data live in --state-dir and survive restarts.
        The RPC listens on 127.0.0.1:9091 by default; any other --rpc-bind needs credentials,
        set with --set-password (reads the password from stdin) or --add-api-key NAME.
        """)

    @OptionGroup var node: NodeOptions

    @Option(name: .customLong("rpc-bind"), help: "Address the HTTP API listens on (default: 127.0.0.1; others need credentials).")
    var rpcBind = "127.0.0.1"

    @Option(name: .customLong("rpc-port"), help: "Port of the HTTP API (default: 9091, Transmission's; 0 picks a free one).")
    var rpcPort = 9091

    @Option(name: .customLong("rpc-host"), help: "Another host name the API answers to besides loopback and --rpc-bind (repeatable; DNS-rebinding guard).")
    var rpcHosts: [String] = []

    @Option(name: .customLong("download-dir"), help: "Where new torrents are saved (default: ~/Downloads).")
    var downloadDir: String?

    @Option(name: .customLong("download-root"), help: "A directory clients may save, move or publish under (repeatable; default: the download dir).")
    var downloadRoots: [String] = []

    @Option(name: .customLong("watch"), help: "A directory watched for .torrent and .magnet files to add (renamed to .added or .invalid).")
    var watch: String?

    @Option(name: .customLong("download-limit"), help: "Download limit for all torrents together in bytes per second, e.g. 500K or 2M (default: none). As with --upload-limit, a limit later set over the API is kept in --state-dir and wins.")
    var downloadLimit: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: info).")
    var logLevel: String = "info"

    @OptionGroup var credentials: DaemonCredentialOptions

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level: '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        _ = try downloadLimitBytes()
        guard (0...65535).contains(rpcPort) else { throw ValidationError("--rpc-port: \(rpcPort) is not a port") }
    }

    func run() async throws {
        let stateDirectory = node.resolvedStateDirectory
        if try credentials.apply(stateDirectory: stateDirectory) { return }
        let logger = DaemonLogging.logger(level: Logger.Level(rawValue: logLevel) ?? .info)

        let downloadDir = self.downloadDir ?? (NSHomeDirectory() as NSString).appendingPathComponent("Downloads")
        let paths: PathConfinement
        let security: RemoteSecurity
        let savePath: String
        do {
            paths = try PathConfinement(roots: downloadRoots.isEmpty ? [downloadDir] : downloadRoots)
            savePath = try paths.confine(downloadDir)
            try FileManager.default.createDirectory(atPath: savePath, withIntermediateDirectories: true)
            security = try RemoteSecurity(credentials: try Credentials.load(stateDirectory: stateDirectory),
                                          bindAddress: rpcBind, extraHosts: rpcHosts, paths: paths)
        } catch {
            throw CLIError("\(error)")
        }

        let session: Session
        do {
            session = try await Session.start(try sessionConfiguration(stateDirectory: stateDirectory, savePath: savePath))
        } catch {
            throw CLIError("cannot start the session: \(error)")
        }
        announceListening(peerPort: session.port, dhtPort: session.dhtPort)
        await Self.keepDefaultSavePathConfined(session, paths: paths, fallback: savePath, logger: logger)

        let services = RemoteControlServices(session: session, security: security, logger: logger)
        let metrics = NodeMetrics()
        let routes = await DaemonRoutes.all(services: services, configDirectory: stateDirectory, metrics: metrics)
        let json = node.json
        let rpcBind = self.rpcBind
        let app = RemoteControlServer.makeApplication(host: rpcBind, port: rpcPort, services: services, routes: routes) { channel in
            DaemonCommand.announceRPC(host: rpcBind, port: channel.localAddress?.port ?? 0, json: json)
        }
        var group: [any Service] = [SessionService(session: session, logger: logger, metrics: metrics)]
        if let watch { group.append(WatchFolder(directory: watch, session: session, logger: logger)) }
        group.append(app)
        let serviceGroup = ServiceGroup(configuration: .init(services: group.map { .init(service: $0) },
                                                             gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            await session.shutdown()
            throw CLIError("\(error)")
        }
    }

    private func sessionConfiguration(stateDirectory: String, savePath: String) throws -> SessionConfiguration {
        var configuration = SessionConfiguration()
        configuration.bindHost = node.bind
        configuration.port = node.port
        configuration.bootstrap = try node.bootstrapNodes()
        configuration.dht = !node.noDHT
        configuration.localServiceDiscovery = !node.noLSD
        configuration.portMapping = !node.noPortMapping
        configuration.encryption = node.encryption
        configuration.uploadLimit = try node.uploadLimitBytes()
        configuration.downloadLimit = try downloadLimitBytes()
        configuration.fountain = !node.fountain.noFountain
        configuration.pex = !node.fountain.noPEX
        configuration.symbolCacheBytes = try node.fountain.symbolCacheBytes()
        configuration.stateDirectory = stateDirectory
        configuration.persistTorrents = true
        configuration.defaultSavePath = savePath
        return configuration
    }

    /// A default save path kept in --state-dir (set over the API) wins over --download-dir, but
    /// not when it lies outside this start's download roots: torrents added without a path would
    /// go where the API may not send them. Then --download-dir is the default again.
    static func keepDefaultSavePathConfined(_ session: Session, paths: PathConfinement, fallback: String, logger: Logger) async {
        var settings = await session.currentSettings()
        guard (try? paths.confine(settings.defaultSavePath)) == nil else { return }
        logger.warning("the stored default save path is outside the download roots; using --download-dir",
                       metadata: ["stored": "\(settings.defaultSavePath)", "now": "\(fallback)"])
        settings.defaultSavePath = fallback
        try? await session.updateSettings(settings)
    }

    private func downloadLimitBytes() throws -> Int? { try NodeOptions.rateBytes(downloadLimit, flag: "--download-limit") }

    private func announceListening(peerPort: UInt16, dhtPort: UInt16?) {
        if node.json {
            JSONOutput.line(DaemonListening(port: peerPort, dhtPort: dhtPort))
        } else {
            let dht = dhtPort.map { ", DHT on UDP \($0)" } ?? ", no DHT"
            FileHandle.standardError.write(Data("listening on \(node.bind == "0.0.0.0" ? "*" : node.bind):\(peerPort) (TCP)\(dht)\n".utf8))
        }
    }

    static func announceRPC(host: String, port: Int, json: Bool) {
        let shown = host.contains(":") ? "[\(host)]" : host
        if json {
            JSONOutput.line(RPCListening(port: port, url: "http://\(shown):\(port)/transmission/rpc"))
        } else {
            // Unbuffered: scripts and tests wait for this line.
            FileHandle.standardOutput.write(Data("remote control on http://\(shown):\(port)/ (Transmission RPC: /transmission/rpc, metrics: /metrics)\n".utf8))
        }
    }
}

private struct DaemonListening: Encodable {
    let event = "listening"
    let port: UInt16
    let dhtPort: UInt16?
    let command = "daemon"
}

private struct RPCListening: Encodable {
    let event = "rpc-listening"
    let port: Int
    let url: String
}
