import Foundation
import Identity
import Metainfo
import NIOCore
import NIOPosix
import PeerWire
import Swarm

/// What a node tells its user besides progress (which is polled with `snapshot`).
public enum NodeEvent: Sendable {
    /// The info dictionary arrived from peers and verified, `seconds` after the torrent was added.
    case metadata(infoHash: InfoHash, name: String, size: Int64, seconds: Double)
    case peerBanned(infoHash: InfoHash, address: String, reason: String)
    /// An announce landed: `nodes` DHT nodes now list us as a peer of the torrent.
    case announced(infoHash: InfoHash, nodes: Int)
    case warning(String)
}

/// The swarm side of a BitFountain node: one TCP listener, any number of
/// torrent sessions, peer discovery through a `PeerDiscovery` (the DHT, or
/// nothing but `--peer`), and one upload limiter for all of them.
///
/// All networking runs on a single event loop, so sessions and connections
/// share state without locks; hashing, disk reads and writes run on a small
/// thread pool (the other core).
public final class SwarmNode: @unchecked Sendable {
    public struct Options: Sendable {
        /// Address to listen on and dial from (`--bind`); "0.0.0.0" for all.
        public var bindHost = "0.0.0.0"
        /// nil: 6881, then the next free port up to 6889. 0: any free port.
        public var port: UInt16?
        public var stateDirectory = StateDirectory.defaultPath()
        /// Bytes per second for all uploads together (`--upload-limit`), nil for none.
        public var uploadLimit: Int?
        /// Bytes per second for all downloads together, nil for none.
        public var downloadLimit: Int?
        public var configuration = SwarmConfiguration()
        public var maxConnections = 400
        public var maxPeersPerTorrent = 60
        /// Re-announce on the DHT every 15 minutes, as mainline clients do.
        public var announceInterval: Double = 15 * 60
        /// A download with useful peers looks for more this often; one without
        /// looks again within seconds (LookupSchedule.swift).
        public var lookupInterval: Double = 5 * 60
        public var resumeSaveInterval: Double = 30
        public var ioThreads = 2
        /// The DHT's UDP port, sent to peers as BEP 5 `port` (nil: no DHT, and the DHT bit stays clear).
        public var dhtPort: UInt16?
        /// Speak bf_fountain: repair symbols to and from BitFountain peers (`--no-fountain` turns it off).
        public var fountain = true
        /// Exchange peers with peers (BEP 11 ut_pex; `--no-pex` turns it off and leaves it out of the handshake).
        public var pex = true
        /// Memory for the intermediate symbols of hot pieces, for serving repair symbols (`--symbol-cache`).
        public var symbolCacheBytes = 256 << 20
        /// Threads that build encoders and encode repair symbols.
        public var repairThreads = 2
        /// Test only (`BITFOUNTAIN_TEST_MODE=corrupt-repair-symbols`): serve random
        /// bytes instead of repair symbols, to play the polluter in tests.
        public var testCorruptRepairSymbols = false
        /// MSE/PE for incoming and outgoing connections (`--encryption`, see `EncryptionPolicy`).
        public var encryption = EncryptionPolicy.prefer
        /// uTP (BEP 29) in and out, tried first when dialling with TCP as the fallback (`--no-utp` turns it off).
        public var utp = true

        public init() {}
    }

    public let options: Options
    public let peerID = PeerID.generate()
    public let discovery: any PeerDiscovery
    let group: MultiThreadedEventLoopGroup
    let loop: EventLoop
    let pool: NIOThreadPool
    /// All piece writes go through this one thread (see `TorrentStorage.writeVerified`).
    let writer: NIOThreadPool
    let limiter: UploadLimiter
    let downloadLimiter: DownloadLimiter
    /// Encodes the bf_fountain symbols we serve, off the loop, with the node's encoder cache.
    let repairPool: RepairSymbolPool
    let stateDirectory: StateDirectory
    private let onEvent: @Sendable (NodeEvent) -> Void
    private var listener: Channel?
    /// uTP's socket and what each peer answered (nil until `start`, or with `--no-utp`); event loop.
    var utp: UTPTransport?
    /// The DHT whose UDP sockets uTP shares when they have our port (`shareUDP`).
    private var sharedDHT: DHTNode?
    private(set) var sessions: [InfoHash: TorrentSession] = [:]
    /// The open torrents `changedStats` reads: all but those it last found at rest, which
    /// come back when they stir (`TorrentSession.stir`); event loop.
    var stirringSessions: Set<InfoHash> = []
    /// The open torrents that have had a peer since the refill timer last found them without
    /// one: the only ones an endgame refill can concern (`SwarmNode+Timers.swift`); event loop.
    var sessionsWithPeers: Set<InfoHash> = []
    /// The one tick and endgame refill timer for all sessions (`SwarmNode+Timers.swift`); event loop.
    var tickTask: RepeatedTask?
    var refillTask: RepeatedTask?
    /// Each open torrent's announce and lookup loops, cancelled when it is removed (event loop).
    private(set) var discoveryTasks: [InfoHash: [Task<Void, Never>]] = [:]
    private var nextKey: UInt64 = 0
    var connectionCount = 0
    /// What `apply` may change while the node runs; read and written on the event loop only.
    var maxConnections: Int
    var maxPeersPerTorrent: Int
    var encryption: EncryptionPolicy
    /// The TCP port peers reach us on (valid after `start`).
    public private(set) var port: UInt16 = 0
    /// The IP addresses of this host's interfaces and the bound one (read at
    /// `start`), to know our own announce when a lookup returns it.
    private(set) var localIPs: Set<IPAddress> = []
    /// The extensions a torrent offers, with and without bf_fountain: made once and shared,
    /// since a registry of its own (a small dictionary) was a few hundred bytes per torrent.
    private let extensionsWithFountain: ExtensionRegistry
    private let extensionsWithoutFountain: ExtensionRegistry

    public init(options: Options, discovery: any PeerDiscovery, onEvent: @escaping @Sendable (NodeEvent) -> Void = { _ in }) {
        self.options = options
        self.discovery = discovery
        self.onEvent = onEvent
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        pool = NIOThreadPool(numberOfThreads: options.ioThreads)
        pool.start()
        writer = NIOThreadPool(numberOfThreads: 1)
        writer.start()
        limiter = UploadLimiter(bytesPerSecond: options.uploadLimit, loop: loop)
        downloadLimiter = DownloadLimiter(bytesPerSecond: options.downloadLimit, loop: loop)
        repairPool = RepairSymbolPool(threads: options.repairThreads, loop: loop, cacheBytes: options.symbolCacheBytes,
                                      corruptRepairSymbols: options.testCorruptRepairSymbols)
        stateDirectory = StateDirectory(path: options.stateDirectory)
        maxConnections = options.maxConnections
        maxPeersPerTorrent = options.maxPeersPerTorrent
        encryption = options.encryption
        extensionsWithFountain = ExtensionRegistry.offered(fountain: true, pex: options.pex, holepunch: options.utp)
        extensionsWithoutFountain = ExtensionRegistry.offered(fountain: false, pex: options.pex, holepunch: options.utp)
    }

    /// Changes the limits and the encryption policy of a running node; new
    /// connections follow them (existing ones are not closed).
    public func apply(uploadLimit: Int?, downloadLimit: Int?, maxConnections: Int, maxPeersPerTorrent: Int,
                      encryption: EncryptionPolicy) async {
        try? await loop.submit {
            self.limiter.bytesPerSecond = uploadLimit
            if self.downloadLimiter.bytesPerSecond != downloadLimit {
                self.downloadLimiter.bytesPerSecond = downloadLimit
                for session in self.sessions.values { session.applyDownloadLimits() }
            }
            self.maxConnections = maxConnections
            self.maxPeersPerTorrent = maxPeersPerTorrent
            self.encryption = encryption
        }.get()
    }

    /// Monotonic seconds, the clock the state machines run on.
    static func now() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }


    func report(_ event: NodeEvent) { onEvent(event) }

    /// Whether `address` is this node: our port on one of our interfaces (what
    /// a DHT lookup returns once our own announce landed). Behind a NAT the
    /// external address is not among them; the handshake's peer ID catches that.
    func isOwnAddress(_ address: PeerAddress) -> Bool {
        address.isOwnListener(port: port, localIPs: localIPs)
    }

    /// The home router reported our external address (port mapping): with
    /// our port there, it is us too (PEX and the DHT hand it back to us).
    public func externalAddressReported(_ ip: IPAddress) {
        loop.execute {
            self.localIPs.insert(ip)
            for session in self.sessions.values { session.machine.localIPs.insert(ip) }
        }
    }

    /// This host's interface addresses, and the one we bound to when it is not a wildcard.
    func ownIPs() -> Set<IPAddress> {
        var ips = Set((try? System.enumerateDevices())?.compactMap { $0.address.flatMap(PeerAddress.init)?.ip } ?? [])
        if let bound = IPAddress(options.bindHost), bound != IPAddress("0.0.0.0"), bound != IPAddress("::") { ips.insert(bound) }
        return ips
    }

    /// `BITFOUNTAIN_DEBUG=1` traces connections and disconnections on stderr:
    /// the first thing to look at when a peer will not talk to us.
    static let tracing = ProcessInfo.processInfo.environment["BITFOUNTAIN_DEBUG"] == "1"

    static func trace(_ text: @autoclosure () -> String) {
        guard tracing else { return }
        FileHandle.standardError.write(Data("[bf] \(text())\n".utf8))
    }

    func makeKey() -> UInt64 {
        nextKey += 1
        return nextKey
    }

    // MARK: Listening

    /// Lets uTP run on `dht`'s UDP sockets (DESIGN §8): `start` then listens on TCP on the DHT's
    /// port when it is free and not fixed otherwise by `--port`, so one port serves all three.
    /// Call before `start`.
    public func shareUDP(with dht: DHTNode) {
        sharedDHT = dht
    }

    /// Binds the listener: the `--port` given, or the shared DHT port, or 6881 then up to 6889
    /// (as the original client did), or any free port for 0; then uTP on the same port. Returns the port.
    public func start() async throws -> UInt16 {
        var candidates: [Int] = options.port.map { [Int($0)] } ?? Array(6881...6889)
        if options.utp, let udp = sharedDHT?.dhtPort, options.port == nil || options.port == 0 || options.port == udp {
            candidates.removeAll { $0 == Int(udp) }
            candidates.insert(Int(udp), at: 0)
        }
        var lastError: Error?
        for candidate in candidates {
            do {
                let channel = try await makeServerBootstrap().bind(host: options.bindHost, port: candidate).get()
                listener = channel
                port = UInt16(channel.localAddress?.port ?? candidate)
                localIPs = ownIPs()
                do { try await startUTP(sharing: sharedDHT) } catch {
                    report(.warning("no uTP: cannot use UDP port \(port) (\(error)); peers connect over TCP only"))
                }
                return port
            } catch {
                lastError = error
            }
        }
        let tried = candidates.count == 1 ? "port \(candidates[0])" : "ports 6881–6889"
        throw SessionError("cannot listen on \(options.bindHost) \(tried): \(lastError.map { "\($0)" } ?? "unknown error") (try --port 0 for any free port)")
    }

    private func makeServerBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: SwarmNode.receiveAllocator)
            .childChannelOption(.writeBufferWaterMark, value: SwarmNode.waterMark)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(self.incomingEncryptionHandler())
                    try channel.pipeline.syncOperations.addHandler(PeerChannelHandler(role: .incoming(self)))
                }
            }
    }

    /// Large reads: at loopback rates a 16 KiB read per syscall would cost more than the data.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 16 << 10, initial: 256 << 10, maximum: 1 << 20)
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 1 << 20, high: 4 << 20)

    /// Called by the handler of an incoming connection once it knows the infohash.
    func session(for infoHash: InfoHash) -> TorrentSession? {
        sessions[infoHash]
    }

    /// Peers a push source (Local Service Discovery) found for `infoHash`,
    /// handed to that torrent's session to dial; ignored if it is not open.
    public func addPeers(_ peers: [PeerAddress], for infoHash: InfoHash) {
        loop.execute { self.sessions[infoHash]?.addPeers(peers) }
    }

    /// The torrents an incoming MSE handshake may name (event loop).
    var servedInfoHashes: Dictionary<InfoHash, TorrentSession>.Keys { sessions.keys }

    /// Adds the handlers of an outgoing connection to a channel's pipeline (on its loop).
    typealias PipelineInstaller = @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void

    /// MSE (unless `plaintext` or the policy says so) and the peer wire, over TCP or uTP alike.
    func outgoingPipeline(to address: PeerAddress, for session: TorrentSession, plaintext: Bool) -> PipelineInstaller {
        let encryption = plaintext ? nil : outgoingEncryptionHandler(to: address, for: session)
        return { pipeline in
            if let encryption { try pipeline.addHandler(encryption()) }
            try pipeline.addHandler(PeerChannelHandler(role: .outgoing(session, address)))
        }
    }

    /// Dials over TCP (`connect(to:for:transport:plaintext:)` decides between TCP and uTP).
    /// `plaintext`: the retry of a `prefer` dial whose MSE handshake failed. `race`: the dial this
    /// is the TCP attempt of; its gate holds the pipeline back until TCP has won, and a failure
    /// goes to the race, which reports the dial failed only when uTP failed too.
    func connectTCP(to address: PeerAddress, for session: TorrentSession, plaintext: Bool = false, race: TransportRaceDial? = nil) {
        let install = outgoingPipeline(to: address, for: session, plaintext: plaintext)
        let race = race.map { NIOLoopBound($0, eventLoop: loop) }
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: SwarmNode.receiveAllocator)
            .channelOption(.writeBufferWaterMark, value: SwarmNode.waterMark)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let race else { return try install(channel.pipeline.syncOperations) }
                    guard race.value.tcpRegistered(channel) else { throw TransportRaceLost() }
                    try channel.pipeline.syncOperations.addHandler(TransportRaceGate(dial: race.value, install: install))
                }
            }
        if options.bindHost != "0.0.0.0", options.bindHost != "::",
           let local = try? SocketAddress(ipAddress: options.bindHost, port: 0) {
            bootstrap = bootstrap.bind(to: local)
        }
        SwarmNode.trace("dialling \(address)")
        bootstrap.connect(to: address.socketAddress).whenFailure { error in
            SwarmNode.trace("cannot connect to \(address): \(error)")
            session.loop.execute {
                if let race { race.value.tcpFailed() } else { session.connectionFailed(address) }
            }
        }
    }

    // MARK: Torrents

    /// Opens a torrent: checks what is on disk (fast resume or recheck), then
    /// joins the swarm, announces it and looks up peers (and dials them, seeding too).
    public func add(_ spec: TorrentSpec) async throws -> TorrentSession {
        var info: TorrentInfo?
        switch spec.content {
        case .info(let known): info = known
        case .magnet: info = stateDirectory.loadMetadata(spec.infoHash)
        }
        var machine: TorrentMachine
        var storage: TorrentStorage?
        var rechecked = false
        let seed = UInt64.random(in: 0...UInt64.max)
        let extensions = spec.fountain ?? options.fountain ? extensionsWithFountain : extensionsWithoutFountain
        if let info {
            let opened = TorrentStorage(info: info, base: spec.directory, rootName: spec.rootName,
                                        writable: !spec.seedingExistingContent)
            do { try opened.prepare() } catch { throw SessionError("cannot use \(spec.directory): \(error)") }
            let state = stateDirectory
            let (have, didRecheck) = try await pool.runIfActive { SwarmNode.piecesOnDisk(opened, infoHash: info.infoHash, state: state) }
            rechecked = didRecheck
            if spec.seedingExistingContent, !have.isComplete {
                guard !have.isEmpty else {
                    throw SessionError("\(opened.displayPath(ofFile: 0)): the content on disk does not match the torrent (no piece verifies)")
                }
                report(.warning("\(info.name): only \(have.setCount) of \(have.count) pieces verify on disk; seeding those"))
            }
            storage = opened
            machine = TorrentMachine(info: info, have: have, configuration: options.configuration, extensions: extensions, seed: seed)
        } else {
            machine = TorrentMachine(infoHash: spec.infoHash, configuration: options.configuration, extensions: extensions, seed: seed)
        }
        if let priorities = spec.filePriorities { machine.setFilePriorities(priorities, now: SwarmNode.now()) }
        machine.listenPort = port
        machine.localIPs = localIPs
        machine.dhtPort = options.dhtPort
        let prepared = machine
        let preparedStorage = storage
        let saveResumeSoon = rechecked
        let session = try await loop.submit { () throws -> TorrentSession in
            guard self.sessions[spec.infoHash] == nil else { throw SessionError("torrent \(spec.infoHash) is already open") }
            let session = TorrentSession(node: self, spec: spec, machine: prepared, storage: preparedStorage)
            self.sessions[spec.infoHash] = session
            self.stirringSessions.insert(spec.infoHash)
            self.startTimersIfNeeded()
            session.start(saveResumeSoon: saveResumeSoon)
            session.connectMore()
            return session
        }.get()
        startDiscovery(for: session, delay: spec.discoveryDelay)
        return session
    }

    /// Announces every `announceInterval` and asks for peers: often while a
    /// download has nobody useful, with each announce once seeding.
    /// Without a discovery (`NoPeerDiscovery`: `--no-dht`, loopback without
    /// `--bootstrap`) there is nobody to tell or ask: its answers are always
    /// empty, and the loops would retry them for as long as the node runs.
    private func startDiscovery(for session: TorrentSession, delay: Double) {
        guard !(discovery is NoPeerDiscovery) else { return }
        let infoHash = session.infoHash
        let announceEvery = options.announceInterval
        let lookupEvery = options.lookupInterval
        // Until an announce lands, try again soon (2 s, doubling): a node that
        // has just started may still be joining the DHT.
        let announcer = Task {
            if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
            var retry = SwarmNode.firstRetry
            while !Task.isCancelled {
                let accepted = await self.announceRound(infoHash)
                try? await Task.sleep(for: .seconds(accepted > 0 ? announceEvery : retry))
                retry = min(retry * 2, announceEvery)
            }
        }
        // Lookups go on for as long as the torrent runs, seeding too (LookupSchedule.swift).
        let finder = Task {
            if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
            var schedule = LookupSchedule(lookupInterval: lookupEvery, announceInterval: announceEvery)
            while !Task.isCancelled {
                await self.lookupRound(session)
                guard let snapshot = try? await session.snapshot().get() else { return }
                let state: LookupSchedule.State = snapshot.isComplete
                    ? .seeding(connectedPeers: snapshot.connectedPeers) : .downloading(usefulPeers: snapshot.usefulPeers)
                try? await Task.sleep(for: .seconds(schedule.delay(after: state)))
            }
        }
        loop.execute {
            // Removed before this ran: stop the loops now rather than never.
            guard self.sessions[infoHash] === session else {
                announcer.cancel()
                finder.cancel()
                return
            }
            self.discoveryTasks[infoHash, default: []] += [announcer, finder]
        }
    }

    /// The first delay before an announce or lookup that came back empty is retried.
    static let firstRetry: Double = 2

    /// Closes one torrent: its announces and lookups stop, its connections
    /// close, its resume data is saved, and it leaves the node (incoming
    /// connections for it are refused from now on). Returns false if it was not open.
    @discardableResult
    public func remove(_ infoHash: InfoHash) async -> Bool {
        let removed = try? await loop.submit { () -> (TorrentSession, [Task<Void, Never>])? in
            guard let session = self.sessions.removeValue(forKey: infoHash) else { return nil }
            self.stirringSessions.remove(infoHash)
            return (session, self.discoveryTasks.removeValue(forKey: infoHash) ?? [])
        }.get()
        guard let (session, tasks) = removed ?? nil else { return false }
        for task in tasks { task.cancel() }
        try? await session.stop().get()
        return true
    }

    /// The numbers of the open torrents that may have changed since the last call (all of them
    /// the first time), read in one pass on the event loop. A torrent that was at rest when it
    /// was last read (no peer, nothing being stored) is left out until it stirs: a daemon's ten
    /// thousand idle seeds are not recounted, nor even looked at, for every list. One reader,
    /// which keeps the numbers it was given: the `Session`.
    public func changedStats() async -> [InfoHash: TorrentStats] {
        (try? await loop.submit { () -> [InfoHash: TorrentStats] in
            var changed: [InfoHash: TorrentStats] = [:]
            var settled: [InfoHash] = []
            for infoHash in self.stirringSessions {
                guard let session = self.sessions[infoHash] else { settled.append(infoHash); continue }
                if let stats = session.statsIfChanged() { changed[infoHash] = stats }
                if session.statsReadAtRest { settled.append(infoHash) }
            }
            self.stirringSessions.subtract(settled)
            return changed
        }.get()) ?? [:]
    }

    /// The open torrent session for `infoHash`, if any.
    public func openSession(_ infoHash: InfoHash) async -> TorrentSession? {
        try? await loop.submit { self.sessions[infoHash] }.get()
    }

    /// Stops every session (resume data saved), the discovery (DHT state saved)
    /// and closes the listener.
    public func shutdown() async {
        let (all, tasks) = (try? await loop.submit { () -> ([TorrentSession], [Task<Void, Never>]) in
            self.stopTimers()
            return (Array(self.sessions.values), self.discoveryTasks.values.flatMap { $0 })
        }.get()) ?? ([], [])
        for task in tasks { task.cancel() }
        for session in all { try? await session.stop().get() }
        try? await listener?.close().get()
        await stopUTP()
        await discovery.shutdown()
        try? await pool.shutdownGracefully()
        await repairPool.shutdown()
        try? await writer.shutdownGracefully()
        try? await group.shutdownGracefully()
    }
}
