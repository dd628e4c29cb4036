import ArgumentParser
import BitFountain
import DHT
import Foundation
import Identity
import Metainfo

struct DHTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht",
        abstract: "One-off DHT requests: ping a node, find nodes or peers, announce, sample infohashes, put and get items.",
        discussion: """
        Each request starts a short-lived node with a throw-away identity (it never \
        touches the state directory of `bitfountain node`) that marks itself read-only \
        (BEP 43) so nobody keeps it in a routing table. It bootstraps, runs one request \
        and exits: 0 on success, 1 when no node answered or --timeout passed.

        Examples:
          bitfountain dht ping dht.transmissionbt.com:6881 --json
          bitfountain dht get-peers 0123456789abcdef0123456789abcdef01234567
          bitfountain dht announce 0123456789abcdef0123456789abcdef01234567 51413
          bitfountain dht find-node 0123456789abcdef0123456789abcdef01234567 --bootstrap 127.0.0.1:6881
          bitfountain dht sample 127.0.0.1:6881 --json
        """,
        subcommands: [DHTPingCommand.self, DHTFindNodeCommand.self, DHTGetPeersCommand.self,
                      DHTAnnounceCommand.self, DHTSampleCommand.self, DHTPutCommand.self, DHTGetCommand.self]
    )
}

/// What every `dht` subcommand takes besides its argument.
struct DHTRequestOptions: ParsableArguments {
    @OptionGroup var network: DHTNetworkOptions

    @Option(help: "UDP port of the temporary node (0 picks a free one).")
    var port: Int = 0

    @Option(help: "Give up after this many seconds.")
    var timeout: Double = 30

    var json: Bool { network.json }

    /// Starts the temporary node, runs `body`, and always shuts the node down.
    /// Requests to one given node (ping, sample) need no bootstrap.
    func withNode<T: Sendable>(bootstrap: Bool = true, _ body: @Sendable (DHTNode) async throws -> T) async throws -> T {
        guard timeout > 0 else { throw CLIError("--timeout must be positive") }
        var configuration = try network.configuration(port: port, stateDirectory: nil)
        configuration.dht.readOnly = true
        if !bootstrap { configuration.bootstrap = [] }
        let node: DHTNode
        do { node = try await DHTNode.start(configuration) } catch { throw CLIError("\(error)") }
        do {
            let result = try await body(node)
            await node.shutdown()
            return result
        } catch {
            await node.shutdown()
            throw error
        }
    }

    /// One request to the node at `text` (HOST:PORT), which needs no bootstrap;
    /// fails when no valid answer comes.
    func ask<T: Sendable>(_ text: String, _ request: @escaping @Sendable (DHTNode, NodeAddress) async -> T?) async throws -> T {
        let address = try await NodeAddressArgument.resolve(text)
        let reply = try await withNode(bootstrap: false) { node in await bounded { await request(node, address) } ?? nil }
        guard let reply else { throw CLIError("no valid answer from \(address) (no reply, or its signature or ID did not check out)") }
        return reply
    }

    /// Runs one lookup (in every address family) until it ends or --timeout passes.
    func lookup(_ start: @escaping @Sendable (DHTNode) -> AsyncStream<DHTLookupUpdate>,
                onPeer: @escaping @Sendable (NodeAddress) -> Void = { _ in }) async throws -> LookupOutcome? {
        try await withNode { node in await bounded { await LookupOutcome.collect(start(node), onPeer: onPeer) } }
    }

    /// Runs the lookup again, a second apart, until `enough` holds for its
    /// outcome or --timeout passes (nil then). For announces: one
    /// round can come back empty-handed when every reply to it was lost or
    /// late (UDP, a busy node), and a later round within the time the user
    /// gave usually gets through.
    func lookup(repeatingUntil enough: @escaping @Sendable (LookupOutcome) -> Bool,
                _ start: @escaping @Sendable (DHTNode) -> AsyncStream<DHTLookupUpdate>) async throws -> LookupOutcome? {
        try await withNode { node in
            await bounded {
                while true {
                    let outcome = await LookupOutcome.collect(start(node))
                    if enough(outcome) || Task.isCancelled { return outcome }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Runs `body`, or returns nil once --timeout seconds have passed (the body is cancelled).
    func bounded<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T? {
        let seconds = timeout
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

/// Parses an infohash given as hex, base32 or a magnet link.
func parseInfoHash(_ text: String) throws -> NodeID {
    if let hash = InfoHash(string: text) { return NodeID(bytes: hash.bytes)! }
    if let link = try? MagnetLink(parsing: text) { return NodeID(bytes: link.infoHash.bytes)! }
    throw CLIError("\(text): not an infohash (40 hex digits or 32 base32 characters) or magnet link")
}

/// Collects a lookup's updates until every family's traversal has finished.
struct LookupOutcome: Sendable {
    var peers: [NodeAddress] = []
    var summaries: [TraversalSummary] = []
    var samples: [SampleReply] = []
    /// BEP 44 get: every valid, newer item found (the last is the newest).
    var items: [ItemReply] = []

    var queries: Int { summaries.reduce(0) { $0 + $1.queriesSent } }
    var responses: Int { summaries.reduce(0) { $0 + $1.responses } }
    var announcedTo: Int { summaries.reduce(0) { $0 + $1.announcedTo } }
    var storedTo: Int { summaries.reduce(0) { $0 + $1.storedTo } }
    var closest: [TraversalSummary.Node] { summaries.flatMap(\.closest) }

    /// Drains `updates`, calling `onPeer` for each new peer as it arrives.
    static func collect(_ updates: AsyncStream<DHTLookupUpdate>, onPeer: (NodeAddress) -> Void = { _ in }) async -> LookupOutcome {
        var outcome = LookupOutcome()
        for await update in updates {
            switch update {
            case .peers(let peers):
                for peer in peers where !outcome.peers.contains(peer) {
                    outcome.peers.append(peer)
                    onPeer(peer)
                }
            case .samples(let reply): outcome.samples.append(reply)
            case .item(let reply): outcome.items.append(reply)
            case .finished(let summary): outcome.summaries.append(summary)
            }
        }
        return outcome
    }
}
