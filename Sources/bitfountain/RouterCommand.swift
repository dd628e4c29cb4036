import ArgumentParser
import BitFountain
import RemoteControl
import DHT
import Foundation
import Identity
import Metainfo

struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Run a DHT bootstrap router: hand new nodes a few live contacts, remember those that answer.",
        discussion: """
        A router stores no peers and keeps no routing table: it answers every query with 8 \
        contacts (3 to a node that asked in the last 10 minutes) from a large ring of nodes \
        that answered its ping, sent --admit-delay seconds after their first query. The ring \
        lives in memory-mapped files in the state directory (default \
        ${XDG_STATE_HOME:-$HOME/.local/state}/bitfountain-router) and survives kill -9. \
        Prometheus metrics are served on --metrics; a summary line is printed every minute. \
        See Bootstrap/README.md for running a public router.

        Examples:
          bitfountain router
          bitfountain router --port 6881 --metrics 127.0.0.1:9181 --capacity 10000000
          bitfountain router --bind 127.0.0.1 --port 0 --allow-private --admit-delay 1 --json
        """
    )

    @Option(help: "Address to bind (IPv4 or IPv6 literal); default: all IPv4 and IPv6 addresses.")
    var bind: String?

    @Option(help: "UDP port (0 picks a free one).")
    var port: Int = 6881

    @Option(help: "Directory for the contact rings and the router's ID.")
    var stateDir: String?

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics.", valueName: "host:port"))
    var metrics: String?

    @Flag(help: "Serve and admit private, loopback and other reserved addresses (tests, LANs).")
    var allowPrivate = false

    @Option(help: "Contacts kept per address family (1 to 10,000,000).")
    var capacity: Int = 1_000_000

    @Option(help: "Seconds between a node's first query and the ping that admits it.")
    var admitDelay: Double = 900

    @Option(help: "Contacts in a reply to a node that queried within the last 10 minutes (others get 8).")
    var recentReplyNodes: Int = 3

    @Option(help: "Packets per second accepted from one IP (0: no limit); bursts of 4× that.")
    var rateLimit: Double = 50

    @Option(help: "Worker threads, each with its own socket (default: one per core).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seconds between summary lines (0: none).")
    var logInterval: Double = 60

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    func validate() throws {
        guard (1...RouterConfiguration.maxCapacity).contains(capacity) else {
            throw ValidationError("--capacity must be 1–\(RouterConfiguration.maxCapacity)")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0–65535 (0 picks a free port)") }
        guard admitDelay >= 0, admitDelay <= 86_400 else { throw ValidationError("--admit-delay must be 0–86400 seconds") }
        guard rateLimit >= 0 else { throw ValidationError("--rate-limit cannot be negative") }
        guard (0...8).contains(recentReplyNodes) else { throw ValidationError("--recent-reply-nodes must be 0–8") }
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1–64") }
        if let bind, IPAddress(bind) == nil { throw ValidationError("--bind \(bind): expected a numeric IPv4 or IPv6 address") }
    }

    func run() async throws {
        let signalsSeen = StopSignals.shared.count
        var configuration = RouterServiceConfiguration()
        configuration.bindAddress = bind
        configuration.port = port
        configuration.stateDirectory = stateDir ?? RouterServiceConfiguration.defaultStateDirectory
        configuration.workers = workers
        configuration.router.capacity = capacity
        configuration.router.admitDelay = .seconds(admitDelay)
        configuration.router.allowPrivate = allowPrivate
        configuration.router.recentReplyNodes = recentReplyNodes
        configuration.router.rateLimitPerSecond = rateLimit
        configuration.router.rateLimitBurst = rateLimit * 4

        let metricsEndpoint = try metrics.map(Self.metricsEndpoint)
        let router: RouterService
        do {
            router = try RouterService.start(configuration) { warning in
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
        } catch {
            throw CLIError("\(error)")
        }
        let exporter = RouterMetrics()
        var server: MetricsHTTPServer?
        if let metricsEndpoint {
            do {
                server = try await MetricsHTTPServer.start(host: metricsEndpoint.host, port: metricsEndpoint.port) {
                    exporter.render()
                }
            } catch {
                router.stop()
                throw CLIError("cannot serve metrics on \(metricsEndpoint.host):\(metricsEndpoint.port): \(error)")
            }
        }
        announce(router, metricsPort: server?.port, stateDirectory: configuration.stateDirectory ?? "")

        let started = ContinuousClock.now
        let reporter = Task {
            var restored = false
            var ticks = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                ticks += 1
                if !restored, router.statistics().restoring == 0 {
                    restored = true
                    RouterReport.restored(router.statistics(), after: ContinuousClock.now - started, json: json)
                }
                guard ticks % 10 == 0 else { continue }
                let statistics = router.statistics()
                exporter.publish(statistics)
                if logInterval > 0, ticks % max(10, Int(logInterval * 10)) == 0 { RouterReport.line(statistics, json: json) }
                if ticks % 300 == 0 { router.flush() }
            }
        }
        await StopSignals.shared.wait(after: signalsSeen)
        reporter.cancel()
        router.stop()
        await server?.close()
        let final = router.statistics()
        if json {
            JSONOutput.line(RouterReport.Stopped(contacts: final.contacts4 + final.contacts6))
        } else {
            print("stopped; \(final.contacts4 + final.contacts6) contacts saved")
        }
    }

    /// HOST:PORT or [IPv6]:PORT; port 0 picks a free one (the listening event says which).
    static func metricsEndpoint(_ text: String) throws -> (host: String, port: Int) {
        var host = Substring(text)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port)
        else { throw CLIError("--metrics \(text): expected HOST:PORT, e.g. 127.0.0.1:9181") }
        host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { throw CLIError("--metrics \(text): no host") }
        return (String(host), port)
    }

    private func announce(_ router: RouterService, metricsPort: Int?, stateDirectory: String) {
        let sockets = router.listeningAddresses.map { RouterReport.Socket(address: $0.ip.description, port: Int($0.port)) }
        if json {
            JSONOutput.line(RouterReport.Listening(address: sockets.first?.address ?? "", port: sockets.first?.port ?? 0,
                                                   sockets: sockets, nodeId: router.nodeID.hex, stateDir: stateDirectory,
                                                   workers: router.workerCount, capacity: capacity,
                                                   metricsPort: metricsPort))
        } else {
            for socket in sockets { print("router listening on \(socket.address):\(socket.port)  id \(router.nodeID.hex)") }
            print("\(router.workerCount) workers, capacity \(capacity) contacts per family, state in \(stateDirectory)"
                + (metricsPort.map { "; metrics on port \($0)" } ?? "") + "; Ctrl-C stops")
        }
    }
}
