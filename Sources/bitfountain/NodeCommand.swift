import ArgumentParser
import BitFountain
import DHT
import Foundation
import Identity

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a DHT node: join the mainline DHT, answer queries, keep the routing table.",
        discussion: """
        The node's key and routing table live in the state directory (default \
        ${XDG_STATE_HOME:-$HOME/.local/state}/bitfountain): the key is made on first start \
        (node.key, mode 0600), the table is saved every 5 minutes and on SIGINT/SIGTERM, and \
        reused at the next start. Statistics are printed every --stats-interval seconds.

        Examples:
          bitfountain node
          bitfountain node --port 0 --bind 127.0.0.1 --bootstrap 127.0.0.1:6881 --json
          bitfountain node --state-dir /var/lib/bitfountain --stats-interval 300
        """
    )

    @OptionGroup var network: DHTNetworkOptions

    @Option(help: "UDP port (0 picks a free one).")
    var port: Int = 6881

    @Option(help: "Directory for the node key and routing table.")
    var stateDir: String?

    @Option(help: "Seconds between statistics lines (0: none).")
    var statsInterval: Double = 60

    func run() async throws {
        // Catch SIGINT/SIGTERM from the start: from here on they stop the node cleanly.
        let signalsSeen = StopSignals.shared.count
        let json = network.json
        let configuration = try sessionConfiguration()
        let session: Session
        do {
            session = try await Session.start(configuration)
        } catch {
            throw CLIError("\(error)")
        }
        let warnings = Task {
            for await event in session.events {
                if case .warning(let text) = event { FileHandle.standardError.write(Data("warning: \(text)\n".utf8)) }
            }
        }
        guard let node = session.dht else {
            await session.shutdown()
            throw CLIError("the session started without its DHT node")
        }
        let families = await node.statistics()?.families ?? []
        let sockets = node.listeningAddresses.map { address in
            SocketRecord(address: address.ip.description, port: Int(address.port),
                         nodeId: families.first { $0.family == address.family }?.nodeID.hex ?? "")
        }
        if json {
            JSONOutput.line(ListeningEvent(address: sockets.first?.address ?? "", port: sockets.first?.port ?? 0,
                                           nodeId: sockets.first?.nodeId ?? "", publicKey: node.publicKey.description,
                                           stateDir: configuration.stateDirectory, sockets: sockets))
        } else {
            for socket in sockets { print("listening on \(socket.address):\(socket.port)  node id \(socket.nodeId)") }
            print("state in \(configuration.stateDirectory); Ctrl-C stops")
        }

        let statsTask = Task {
            guard statsInterval > 0 else { return }
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(statsInterval))
                if Task.isCancelled { return }
                if let stats = await node.statistics() { Self.report(stats, json: json) }
            }
        }
        await StopSignals.shared.wait(after: signalsSeen)
        statsTask.cancel()
        let final = await node.statistics()
        await session.shutdown()  // the DHT's routing table is saved here
        await warnings.value
        if json {
            JSONOutput.line(StoppedEvent(nodes: final?.tableSize ?? 0))
        } else {
            print("stopped; routing table of \(final?.tableSize ?? 0) nodes saved")
        }
    }

    /// A session that is a DHT node and nothing else (DESIGN §8: the CLI wires
    /// nothing itself): no peer listener, no torrents, no LSD or port mapping
    /// (the node never had them); `--bind`, `--port`, `--bootstrap` and
    /// `--state-dir` as before, validated as the `dht` commands do.
    private func sessionConfiguration() throws -> SessionConfiguration {
        let dht = try network.configuration(port: port, stateDirectory: stateDir ?? DHTStateStore.defaultDirectory)
        var configuration = SessionConfiguration()
        configuration.dhtOnly = true
        configuration.bindHost = dht.bindAddress ?? "0.0.0.0"  // every address of both families
        configuration.port = UInt16(dht.port)
        configuration.bootstrap = dht.bootstrap
        configuration.stateDirectory = dht.stateDirectory ?? DHTStateStore.defaultDirectory
        configuration.localServiceDiscovery = false
        configuration.portMapping = false
        return configuration
    }

    static func report(_ stats: DHTNodeStatistics, json: Bool) {
        let share = stats.tableSize == 0 ? 0 : Double(stats.verifiedNodes) / Double(stats.tableSize)
        let counters = stats.counters
        if json {
            JSONOutput.line(StatsEvent(nodes: stats.tableSize, verified: stats.verifiedNodes, verifiedShare: share,
                                       queriesIn: counters.queriesReceived, queriesOut: counters.queriesSent,
                                       responsesIn: counters.responsesReceived, timeouts: counters.timeouts,
                                       dropped: counters.droppedMalformed + counters.droppedRateLimited
                                           + counters.droppedInvalidSignature + counters.droppedOversized,
                                       infohashes: stats.storedInfoHashes, peers: stats.storedPeers,
                                       externalAddress: stats.families.compactMap { $0.externalAddress?.description }.first))
        } else {
            print("nodes \(stats.tableSize) (\(Int(share * 100))% verified)  queries in \(counters.queriesReceived) "
                + "out \(counters.queriesSent)  timeouts \(counters.timeouts)  stored \(stats.storedPeers) peers "
                + "for \(stats.storedInfoHashes) infohashes")
        }
    }
}

private struct SocketRecord: Encodable {
    let address: String
    let port: Int
    let nodeId: String
}

private struct ListeningEvent: Encodable {
    let event = "listening"
    let address: String
    let port: Int
    let nodeId: String
    let publicKey: String
    let stateDir: String
    let sockets: [SocketRecord]
}

private struct StatsEvent: Encodable {
    let event = "stats"
    let nodes: Int
    let verified: Int
    let verifiedShare: Double
    let queriesIn: Int
    let queriesOut: Int
    let responsesIn: Int
    let timeouts: Int
    let dropped: Int
    let infohashes: Int
    let peers: Int
    let externalAddress: String?
}

private struct StoppedEvent: Encodable {
    let event = "stopped"
    let nodes: Int
}
