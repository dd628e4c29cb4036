import Foundation
import Identity
import Metainfo
import PeerWire
import NIOCore
import OrderedCollections
import Swarm

/// The library's one entry point (DESIGN §8): a BitTorrent node that holds any
/// number of torrents. It owns the DHT node, the peer listener, Local Service
/// Discovery, the port mapping, the rate limiter and the state directory;
/// its users (the `get`, `seed`, `node` and `daemon` commands, an embedding app) add,
/// remove, pause and inspect torrents through it and read one stream of
/// typed events. None of them wires the DHT and the swarm together itself.
///
/// ```swift
/// var configuration = SessionConfiguration()
/// configuration.stateDirectory = "/var/lib/myapp"
/// let session = try await Session.start(configuration)
/// let id = try await session.add(try TorrentSource(parsing: magnet), options: AddOptions(savePath: "/srv/downloads"))
/// for await event in session.events { if case .completed(id) = event { break } }
/// await session.shutdown()
/// ```
///
/// An actor: calls from any task are serialised. Everything here is O(1) or
/// O(torrents) per call; the per-torrent work runs on the swarm's event loop.
public actor Session {
    /// Every event, in order. One consumer; an unread stream keeps the newest 10,000.
    public nonisolated let events: AsyncStream<SessionEvent>
    public nonisolated let configuration: SessionConfiguration
    /// The TCP port peers reach this session on.
    public nonisolated let port: UInt16
    /// The UDP port of the DHT (nil: no DHT).
    public nonisolated let dhtPort: UInt16?
    /// The DHT node, for statistics and DHT-level operations (nil: no DHT).
    public nonisolated let dht: DHTNode?
    /// Our peer ID in handshakes.
    public nonisolated var peerID: PeerID { swarm.peerID }

    nonisolated let swarm: SwarmNode
    let network: SessionNetwork
    let eventSink: AsyncStream<SessionEvent>.Continuation
    let store: SessionStore?
    var settings: SessionSettings
    /// In id order, one after the other in memory (ids only grow, and a restore inserts them
    /// in order): `list` reads them front to back, and ten thousand records read in hash
    /// order were as many cache misses.
    var torrents: OrderedDictionary<TorrentID, ManagedTorrent> = [:]
    var idsByInfoHash: [InfoHash: TorrentID] = [:]
    var nextID = 1
    var engineTask: Task<Void, Never>?
    /// `Session+SeedLimits.swift`: the periodic check of the seeds against their ratio limits.
    var seedLimitTask: Task<Void, Never>?
    var isShutDown = false

    /// What the engine reports, funnelled through one stream so its order survives.
    enum EngineEvent: Sendable {
        case node(NodeEvent)
        /// A torrent session's completion future finished (nil error: every piece verified).
        case finished(InfoHash, ObjectIdentifier, error: String?)
        case portMapping(PortMappingEvent)
    }
    let engineSink: AsyncStream<EngineEvent>.Continuation

    /// Starts the network side (DHT, LSD, listener, port mapping) and, for a
    /// persistent session, restores every stored torrent (paused ones stay paused).
    public static func start(_ configuration: SessionConfiguration) async throws -> Session {
        let (engineEvents, engineSink) = AsyncStream.makeStream(of: EngineEvent.self)
        let warning: @Sendable (String) -> Void = { engineSink.yield(.node(.warning($0))) }
        let store = configuration.persistTorrents ? try SessionStore(directory: configuration.stateDirectory) : nil
        let storedSettings = store?.loadSettings()
        var effective = configuration
        if let storedSettings {
            effective.uploadLimit = storedSettings.uploadLimit
            effective.downloadLimit = storedSettings.downloadLimit
            effective.maxConnections = storedSettings.maxConnections
            effective.maxPeersPerTorrent = storedSettings.maxPeersPerTorrent
            effective.encryption = storedSettings.encryption
            effective.defaultSavePath = storedSettings.defaultSavePath
            effective.fountain = storedSettings.fountain
            effective.seedRatioLimit = storedSettings.seedRatioLimit
        }
        var settings = SessionSettings(uploadLimit: effective.uploadLimit, downloadLimit: effective.downloadLimit,
                                       maxConnections: effective.maxConnections, maxPeersPerTorrent: effective.maxPeersPerTorrent,
                                       encryption: effective.encryption, defaultSavePath: effective.defaultSavePath,
                                       fountain: effective.fountain, seedRatioLimit: effective.seedRatioLimit)
        // The alternative limits have no flag: they come from the stored settings alone, and if
        // they were on when the session stopped, the swarm starts with them in force.
        if let storedSettings {
            (settings.altUploadLimit, settings.altDownloadLimit) = (storedSettings.altUploadLimit, storedSettings.altDownloadLimit)
            settings.altSpeedEnabled = storedSettings.altSpeedEnabled
        }
        let network = try await SessionNetwork.start(effective, warning: warning)
        var options = swarmOptions(effective, dhtPort: network.discovery.dhtPort)
        (options.uploadLimit, options.downloadLimit) = (settings.effectiveUploadLimit, settings.effectiveDownloadLimit)
        let swarm = SwarmNode(options: options, discovery: network.discovery) { engineSink.yield(.node($0)) }
        network.lsd?.deliverPeers { [weak swarm] infoHash, peers in swarm?.addPeers(peers, for: infoHash) }
        // TCP, uTP and the DHT on one port: uTP rides the DHT's UDP socket.
        if let dht = network.dht, !effective.dhtOnly { swarm.shareUDP(with: dht) }
        var port: UInt16 = 0  // A DHT-only session listens for no peers.
        if !effective.dhtOnly {
            do { port = try await swarm.start() } catch {
                await swarm.shutdown()
                throw SessionError("\(error)")
            }
        }
        settings.port = port
        let session = Session(configuration: effective, settings: settings, swarm: swarm, network: network, port: port,
                              store: store, engineSink: engineSink)
        await session.begin(engineEvents)
        return session
    }

    private init(configuration: SessionConfiguration, settings: SessionSettings, swarm: SwarmNode, network: SessionNetwork,
                 port: UInt16, store: SessionStore?, engineSink: AsyncStream<EngineEvent>.Continuation) {
        self.configuration = configuration
        self.settings = settings
        self.swarm = swarm
        self.network = network
        self.port = port
        dhtPort = network.discovery.dhtPort
        dht = network.dht
        self.store = store
        self.engineSink = engineSink
        (events, eventSink) = AsyncStream.makeStream(of: SessionEvent.self, bufferingPolicy: .bufferingNewest(10_000))
    }

    static func swarmOptions(_ configuration: SessionConfiguration, dhtPort: UInt16?) -> SwarmNode.Options {
        var options = SwarmNode.Options()
        options.bindHost = configuration.bindHost
        options.port = configuration.port
        options.stateDirectory = configuration.stateDirectory
        options.uploadLimit = configuration.uploadLimit
        options.downloadLimit = configuration.downloadLimit
        options.utp = configuration.utp
        options.configuration = configuration.swarm
        options.maxConnections = configuration.maxConnections
        options.maxPeersPerTorrent = configuration.maxPeersPerTorrent
        options.announceInterval = configuration.announceInterval
        options.lookupInterval = configuration.lookupInterval
        options.dhtPort = dhtPort
        options.fountain = configuration.fountain
        options.pex = configuration.pex
        options.symbolCacheBytes = configuration.symbolCacheBytes
        options.testCorruptRepairSymbols = configuration.testCorruptRepairSymbols
        options.encryption = configuration.encryption
        return options
    }

    private func begin(_ engineEvents: AsyncStream<EngineEvent>) async {
        engineTask = Task { [weak self] in
            for await event in engineEvents {
                guard let self else { return }
                await self.handle(event)
            }
        }
        emit(.listening(port: port, dhtPort: dhtPort))
        let sink = engineSink
        let swarm = self.swarm
        await network.startPortMapping(tcpPort: port, bindHost: configuration.bindHost,
                                       onEvent: { [weak swarm] event in
                                           // The router's view of our address: BEP 42 ID and own-address checks.
                                           if case .externalAddress(let ip) = event { swarm?.externalAddressReported(ip) }
                                           sink.yield(.portMapping(event))
                                       },
                                       warning: { sink.yield(.node(.warning($0))) })
        if let reason = network.noDHTReason { engineSink.yield(.node(.warning("not joining the DHT: \(reason)"))) }
        if let store { await restore(from: store) }
        startSeedLimitChecks()
    }

    /// Stops every torrent (resume data and the torrent list saved), the DHT
    /// (routing table saved), the listeners and the port mappings. The event
    /// stream finishes. Calls after this throw.
    public func shutdown() async {
        guard !isShutDown else { return }
        isShutDown = true
        // Running totals into the records before the sessions go.
        await refreshStats()
        for id in torrents.keys { torrents[id]?.absorbCounters(); persist(id) }
        await swarm.shutdown()
        engineSink.finish()
        engineTask?.cancel()
        seedLimitTask?.cancel()
        eventSink.finish()
    }

    func emit(_ event: SessionEvent) { eventSink.yield(event) }

    func ensureRunning() throws(SessionError) {
        if isShutDown { throw SessionError("the session is shut down") }
    }

    func record(_ id: TorrentID) throws(SessionError) -> ManagedTorrent {
        guard let torrent = torrents[id] else { throw SessionError("no torrent with id \(id)") }
        return torrent
    }

    /// The id of the torrent with `infoHash`, if the session has it.
    public func id(of infoHash: InfoHash) -> TorrentID? { idsByInfoHash[infoHash] }

    /// Announces a state change if the state moved since the last one announced.
    func noteState(_ id: TorrentID) {
        guard let torrent = torrents[id] else { return }
        let now = torrent.state
        guard now != torrent.lastState else { return }
        torrents[id]?.lastState = now
        emit(.stateChanged(id, from: torrent.lastState, to: now))
    }
}

extension ManagedTorrent {
    /// Moves the running session's payload counters into the totals of earlier runs (before it stops).
    mutating func absorbCounters() {
        guard let stats else { return }
        kept.downloadedBefore += stats.downloadedPayload
        kept.uploadedBefore += stats.uploadedPayload
        kept.lastHaveBytes = stats.verifiedBytes
        self.stats = nil
    }
}
