import DHT
import Foundation
import Identity
import Metainfo
import NIOCore
import NIOPosix

/// A running DHT node: the sans-I/O core on a NIO event loop, with UDP
/// sockets, a timer, persistence and bootstrap. The swarm uses it as its
/// `PeerDiscovery`; `bitfountain node` and `bitfountain dht` are thin CLIs over it.
///
///     let node = try await DHTNode.start(configuration)
///     for await peer in node.findPeers(for: infoHash) { … }
///     await node.shutdown()          // saves the routing table
public final class DHTNode: PeerDiscovery, Sendable {
    public let configuration: DHTNodeConfiguration
    /// The addresses the sockets are bound to (with the real port when 0 was asked).
    public let listeningAddresses: [NodeAddress]
    public let publicKey: Ed25519.PublicKey
    let engine: NIOLoopBound<DHTNodeEngine>
    let eventLoop: EventLoop
    let store: DHTStateStore?
    let ownedGroup: MultiThreadedEventLoopGroup?

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds the sockets, loads (or creates) the identity and saved state, and
    /// starts joining the DHT in the background. `warning` receives non-fatal
    /// problems (a damaged state file, IPv6 unavailable).
    public static func start(_ configuration: DHTNodeConfiguration,
                             warning: @escaping @Sendable (String) -> Void = { _ in }) async throws -> DHTNode {
        let store = configuration.stateDirectory.map(DHTStateStore.init(directory:))
        let key = try store?.loadOrCreateKey() ?? Ed25519.SigningKey.generate()
        let snapshot = store?.loadSnapshot(warning: warning)
        let ownedGroup = configuration.eventLoopGroup == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let eventLoop = (configuration.eventLoopGroup ?? ownedGroup!).next()

        let plan = try bindPlan(configuration)
        var dht = configuration.dht
        dht.families = Set(plan.map(\.family))
        let coreConfiguration = dht
        let seed = SecureRandom.uint64()
        let engine = try await eventLoop.submit {
            NIOLoopBound(DHTNodeEngine(eventLoop: eventLoop, core: DHTCore(configuration: coreConfiguration,
                                                                          authenticator: Ed25519Authenticator(key: key),
                                                                          randomSeed: seed, now: DHTNodeEngine.now)),
                         eventLoop: eventLoop)
        }.get()

        var bound: [(IPAddress.Family, Channel)] = []
        do {
            var port = configuration.port
            for (index, entry) in plan.enumerated() {
                do {
                    let channel = try await bind(entry, port: port, engine: engine, eventLoop: eventLoop)
                    if port == 0, let actual = channel.localAddress?.port { port = actual }
                    bound.append((entry.family, channel))
                } catch where entry.optional && index > 0 {
                    warning("no IPv6 socket (\(error)); running on IPv4 only")
                }
            }
        } catch {
            for (_, channel) in bound { try? await channel.close() }
            try? await ownedGroup?.shutdownGracefully()
            throw StartFailure(description: "cannot bind UDP \(configuration.bindAddress ?? "*"):\(configuration.port): \(error)")
        }
        let channels = bound
        let node = DHTNode(configuration: configuration,
                           listeningAddresses: channels.compactMap { $0.1.localAddress.flatMap(NodeAddress.init) },
                           publicKey: key.publicKey, engine: engine, eventLoop: eventLoop, store: store, ownedGroup: ownedGroup)
        try await eventLoop.submit {
            let engine = engine.value
            for (family, channel) in channels { engine.channels[family] = channel }
            // Families without a socket (IPv6 unavailable) must not be used by the core.
            if let snapshot { engine.restore(snapshot) }
            engine.flush()
        }.get()
        node.startBackgroundWork(families: Set(channels.map(\.0)))
        return node
    }

    private init(configuration: DHTNodeConfiguration, listeningAddresses: [NodeAddress], publicKey: Ed25519.PublicKey,
                 engine: NIOLoopBound<DHTNodeEngine>, eventLoop: EventLoop, store: DHTStateStore?,
                 ownedGroup: MultiThreadedEventLoopGroup?) {
        self.configuration = configuration
        self.listeningAddresses = listeningAddresses
        self.publicKey = publicKey
        self.engine = engine
        self.eventLoop = eventLoop
        self.store = store
        self.ownedGroup = ownedGroup
    }

    // MARK: Sockets

    private struct BindEntry {
        var family: IPAddress.Family
        var host: String
        /// IPv6 next to IPv4 by default: fine if the machine has none.
        var optional: Bool
    }

    private static func bindPlan(_ configuration: DHTNodeConfiguration) throws -> [BindEntry] {
        guard configuration.port >= 0, configuration.port <= 65_535 else {
            throw StartFailure(description: "port \(configuration.port) is not 0–65535")
        }
        guard let bind = configuration.bindAddress else {
            return [BindEntry(family: .v4, host: "0.0.0.0", optional: false), BindEntry(family: .v6, host: "::", optional: true)]
        }
        guard let ip = IPAddress(bind) else { throw StartFailure(description: "--bind needs a numeric IPv4 or IPv6 address, not \(bind)") }
        return [BindEntry(family: ip.family, host: bind, optional: false)]
    }

    private static func bind(_ entry: BindEntry, port: Int, engine: NIOLoopBound<DHTNodeEngine>,
                             eventLoop: EventLoop) async throws -> Channel {
        var bootstrap = DatagramBootstrap(group: eventLoop)
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 2_048))
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 21)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPDatagramHandler(engine: engine.value))
                }
            }
        if entry.family == .v6 {
            // Keep the IPv6 socket to IPv6 so that IPv4 can have the same port.
            bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        return try await bootstrap.bind(host: entry.host, port: port).get()
    }

    // MARK: Background work

    private func startBackgroundWork(families: Set<IPAddress.Family>) {
        let bootstrapHosts = configuration.bootstrap
        let resolver = Task { [engine, eventLoop] in
            // Retry with backoff while nothing resolves (no network at start).
            var delay = Duration.seconds(5)
            while !Task.isCancelled {
                let addresses = await DHTBootstrapResolver.resolve(bootstrapHosts, families: families)
                if !addresses.isEmpty || bootstrapHosts.isEmpty {
                    eventLoop.execute { engine.value.setBootstrapNodes(addresses) }
                    return
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(300))
            }
        }
        var tasks = [resolver]
        if store != nil {
            let interval = configuration.saveInterval
            tasks.append(Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard !Task.isCancelled, let self else { return }
                    try? await self.saveState()
                }
            })
        }
        let started = tasks
        eventLoop.execute { [engine] in engine.value.tasks += started }
    }

    /// Writes the routing table and external addresses to the state directory now.
    public func saveState() async throws {
        guard let store else { return }
        let snapshot = try await eventLoop.submit { [engine] in engine.value.core.snapshot() }.get()
        try store.save(snapshot)
    }

    /// Stops the node: timers end, waiting lookups finish, the state is saved,
    /// the sockets close. Safe to call more than once; later calls to the other
    /// methods return at once with empty results. When the node runs on a
    /// caller's event loop group, shut the node down before the group.
    public func shutdown() async {
        let result = try? await eventLoop.submit { [engine] () -> (DHTStateSnapshot, [Channel])? in
            let engine = engine.value
            guard !engine.isStopped else { return nil }
            return (engine.stop(), Array(engine.channels.values))
        }.get()
        guard let (snapshot, channels) = result ?? nil else { return }
        try? store?.save(snapshot)
        for channel in channels { try? await channel.close() }
    }

    /// The event loop outlives `shutdown()` so that calls made afterwards still
    /// return (empty) instead of waiting on a loop that no longer runs tasks;
    /// a group we made ourselves ends with the node.
    deinit {
        ownedGroup?.shutdownGracefully { _ in }
    }

    // MARK: Queries

    public func nodeID(for family: IPAddress.Family) async -> NodeID {
        (try? await eventLoop.submit { [engine] in engine.value.core.nodeID(for: family) }.get()) ?? .zero
    }

    public func statistics() async -> DHTNodeStatistics? {
        try? await eventLoop.submit { [engine] in
            let engine = engine.value
            let now = DHTNodeEngine.now
            let families = engine.families.compactMap { family -> DHTNodeStatistics.Family? in
                guard let table = engine.core.routingTable(for: family) else { return nil }
                return DHTNodeStatistics.Family(family: family, nodeID: table.ownID, table: table.summary(now: now),
                                                externalAddress: engine.core.externalAddress(for: family))
            }
            return DHTNodeStatistics(families: families, counters: engine.core.statistics,
                                     storedInfoHashes: engine.core.storedInfoHashes, storedPeers: engine.core.storedPeers)
        }.get()
    }

    /// Waits until the routing tables hold `minimum` nodes, or `timeout` passes.
    public func waitForNodes(_ minimum: Int, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let stats = await statistics(), stats.tableSize >= minimum { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Pings one node; nil when it does not answer (within the query timeout).
    public func ping(_ address: NodeAddress) async -> PingReply? {
        let future = eventLoop.flatSubmit { [engine] in engine.value.ping(address) }
        return (try? await future.get()) ?? nil
    }

    /// Asks one node for a BEP 51 sample of its infohashes.
    public func sampleInfohashes(at address: NodeAddress) async -> SampleReply? {
        let future = eventLoop.flatSubmit { [engine] in engine.value.sample(address) }
        return (try? await future.get()) ?? nil
    }

    /// find_node toward `target` in every family; one `.finished` per family.
    public func findNode(_ target: NodeID) -> AsyncStream<DHTLookupUpdate> {
        lookup { core, family, now in core.findNode(target, family: family, now: now) }
    }

    /// get_peers for `infoHash` in every family, announcing afterwards when `announce` is set.
    public func getPeers(_ infoHash: NodeID, announce: DHTCore.Announce? = nil) -> AsyncStream<DHTLookupUpdate> {
        lookup { core, family, now in core.getPeers(infoHash, family: family, announce: announce, now: now) }
    }

    /// BEP 51 sampling traversal toward `target`.
    public func sampleInfohashes(toward target: NodeID) -> AsyncStream<DHTLookupUpdate> {
        lookup { core, family, now in core.sampleInfohashes(toward: target, family: family, now: now) }
    }

    func lookup(_ start: @escaping @Sendable (inout DHTCore, IPAddress.Family, DHTInstant) -> DHTOperation)
        -> AsyncStream<DHTLookupUpdate> {
        let (stream, continuation) = AsyncStream.makeStream(of: DHTLookupUpdate.self, bufferingPolicy: .unbounded)
        eventLoop.execute { [engine] in engine.value.lookup(continuation, start: start) }
        return stream
    }

    // MARK: PeerDiscovery

    /// How long a lookup or announce waits for a routing table that is still
    /// empty (a node that has just started is bootstrapping): a lookup over no
    /// nodes ends at once and finds nothing.
    static let tableWait: Duration = .seconds(10)

    public func findPeers(for infoHash: InfoHash) -> AsyncStream<PeerAddress> {
        AsyncStream { continuation in
            let task = Task {
                _ = await waitForNodes(1, timeout: DHTNode.tableWait)
                for await update in getPeers(NodeID(bytes: infoHash.bytes)!) {
                    if case .peers(let peers) = update {
                        for peer in peers { continuation.yield(peer) }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    @discardableResult
    public func announce(_ infoHash: InfoHash, port: UInt16) async -> Int {
        _ = await waitForNodes(1, timeout: DHTNode.tableWait)
        var accepted = 0
        for await update in getPeers(NodeID(bytes: infoHash.bytes)!, announce: .port(port)) {
            if case .finished(let summary) = update { accepted += summary.announcedTo }
        }
        return accepted
    }

    public var dhtPort: UInt16? { listeningAddresses.first?.port }

    public func learnedDHTNode(_ node: PeerAddress) async {
        eventLoop.execute { [engine] in engine.value.learnedNode(node) }
    }

    public func externalAddressReported(_ address: IPAddress) async {
        eventLoop.execute { [engine] in engine.value.externalAddressReported(address) }
    }
}

extension DHTNode {
    /// The DHT node `seed` and `get` embed, from their own flags: `bootstrap`
    /// empty means the default list, `bindHost` 0.0.0.0 or :: means every
    /// address of both families, and the UDP port is 6881 unless taken, then
    /// any free one. The key and routing table live in `stateDirectory` next
    /// to the swarm's resume data. Call `shutdown()` before exiting so the
    /// routing table is saved. `port`, when given, is tried instead of 6881
    /// (the node's TCP port, which uTP shares with the DHT); with `fixedPort`
    /// it is the only one (a DHT-only node's port is where others know it).
    public static func startEmbedded(bootstrap: [HostPort], bindHost: String, stateDirectory: String,
                                     port: UInt16? = nil, fixedPort: Bool = false, eventLoopGroup: (any EventLoopGroup)? = nil,
                                     warning: @escaping @Sendable (String) -> Void = { _ in }) async throws -> DHTNode {
        var configuration = DHTNodeConfiguration()
        configuration.bindAddress = ["0.0.0.0", "::", ""].contains(bindHost) ? nil : bindHost
        configuration.bootstrap = bootstrap.isEmpty ? DefaultBootstrap.nodes : bootstrap
        configuration.stateDirectory = stateDirectory
        configuration.eventLoopGroup = eventLoopGroup
        if let port { configuration.port = Int(port) }
        do {
            return try await start(configuration, warning: warning)
        } catch let failure as StartFailure {
            if fixedPort { throw failure }
            configuration.port = 0
            return try await start(configuration, warning: warning)
        }
    }
}
