import Identity
import Metainfo
import PeerWire

/// The sans-I/O state machine of one torrent: peers, choking, piece picking,
/// request pipelining, endgame, serving, BEP 9 metadata and bans. It coordinates
/// sub-machines that own their slice of the state: the choker (Choker.swift),
/// the metadata exchange (MetadataExchange.swift), one request ledger per
/// peer for blocks and symbols alike (RequestLedger.swift), PEX
/// (PeerExchange.swift), holepunching (Holepunch.swift), and the fountain
/// receiver and server (FountainReceiver.swift, FountainServer.swift).
///
/// It takes events (a peer connected, a message arrived, a piece was stored, a
/// tick) with the current time, and queues `TorrentAction`s for its adapter,
/// collected with `takeActions()`. It owns no socket, clock, file or thread,
/// and its randomness comes from a seed, so simulations replay exactly.
public struct TorrentMachine: Sendable {
    public typealias PeerKey = PeerRecord.Key

    public let infoHash: InfoHash
    public internal(set) var info: TorrentInfo?
    public let configuration: SwarmConfiguration
    public let extensionRegistry: ExtensionRegistry
    /// Our TCP listen port, sent as BEP 10 `p`.
    public var listenPort: UInt16?
    /// Our DHT port, sent as BEP 5 `port` to peers that support it.
    public var dhtPort: UInt16?

    public internal(set) var peers: [PeerKey: PeerRecord] = [:]
    var picker: PiecePicker?
    var assemblies: [Int: PieceAssembly] = [:]
    /// Pieces under way in the order they started: the oldest are finished first.
    var assemblyOrder: [Int] = []
    var storing: Set<Int> = []
    /// Pieces being stored, with who sent what, to blame (or to resume with
    /// repair symbols and find the culprit) if the hash fails.
    var finishing: [Int: PieceAssembly] = [:]
    /// bf_fountain is on (it is in our extension handshake).
    public let fountainEnabled: Bool
    /// Peers banned in this session, and who recently left (to ban a polluter found after it went).
    var bannedKeys: Set<PeerKey> = []
    var departed: [PeerKey: (address: String, peerID: PeerID)] = [:]
    /// Peers that were seeds when they left: a seed does not dial them again.
    var departedSeeds: Set<PeerKey> = []
    /// BEP 9 download of the info dictionary (MetadataExchange.swift).
    var metadataExchange: MetadataExchange
    /// BEP 11, when ut_pex is in our extension handshake (PeerExchange.swift).
    var pex: PeerExchange?
    /// BEP 55, when ut_holepunch is in our extension handshake (Holepunch.swift).
    var holepunch: Holepunch?
    /// The IPs of this host's interfaces: a PEX entry at one of them with our port is us.
    public var localIPs: Set<IPAddress> = []
    var random: SplitMix64
    var actions: [TorrentAction] = []
    /// Who we upload to (Choker.swift).
    var choker: Choker
    /// bf_fountain: the symbols we owe peers (FountainServer.swift), and
    /// when to ask for symbols and what a decode means (FountainReceiver.swift).
    var fountainServer: FountainServer
    var fountainReceiver = FountainReceiver()
    var lastTick: Double?
    public internal(set) var downloadedPayload: Int64 = 0
    public internal(set) var uploadedPayload: Int64 = 0
    public internal(set) var wastedBytes: Int64 = 0
    public internal(set) var hashFailures = 0
    /// Peers that sent us at least one requested block.
    public internal(set) var contributingPeers: Set<PeerID> = []
    /// When the first requested block or symbol arrived (start-up latency).
    public internal(set) var firstPayloadAt: Double?
    /// One class per file (0 skip, 1 normal, 2 high; nil: all normal), kept
    /// so a magnet download applies it once the metadata is known (TorrentMachine+Priorities.swift).
    var filePriorities: [UInt8]?
    /// Bytes the download limits let us request now, nil without a limit;
    /// and whether a pipeline went short for want of it (TorrentMachine+DownloadAllowance.swift).
    public internal(set) var downloadAllowance: Int?
    public internal(set) var requestsHeldBack = false

    /// A torrent whose metadata is known; `have` comes from resume data or a recheck.
    public init(info: TorrentInfo, have: Bitfield, configuration: SwarmConfiguration = .init(),
                extensions: ExtensionRegistry = .standard, seed: UInt64) {
        infoHash = info.infoHash
        self.configuration = configuration
        extensionRegistry = extensions
        fountainEnabled = extensions.localIDs[BFFountain.extensionName] != nil
        if extensions.localIDs[UTPex.extensionName] != nil { pex = PeerExchange() }
        if extensions.localIDs[UTHolepunch.extensionName] != nil { holepunch = Holepunch() }
        choker = Choker(configuration)
        fountainServer = FountainServer(queueLimit: configuration.servedRequestQueue)
        metadataExchange = MetadataExchange(infoHash: info.infoHash, requestsPerPeer: configuration.metadataRequestsPerPeer,
                                            timeout: configuration.metadataTimeout)
        random = SplitMix64(seed: seed)
        adopt(info, have: have)
    }

    /// A magnet download: the metadata comes from peers first (BEP 9).
    public init(infoHash: InfoHash, configuration: SwarmConfiguration = .init(),
                extensions: ExtensionRegistry = .standard, seed: UInt64) {
        self.infoHash = infoHash
        self.configuration = configuration
        extensionRegistry = extensions
        fountainEnabled = extensions.localIDs[BFFountain.extensionName] != nil
        if extensions.localIDs[UTPex.extensionName] != nil { pex = PeerExchange() }
        if extensions.localIDs[UTHolepunch.extensionName] != nil { holepunch = Holepunch() }
        choker = Choker(configuration)
        fountainServer = FountainServer(queueLimit: configuration.servedRequestQueue)
        metadataExchange = MetadataExchange(infoHash: infoHash, requestsPerPeer: configuration.metadataRequestsPerPeer,
                                            timeout: configuration.metadataTimeout)
        random = SplitMix64(seed: seed)
    }

    // MARK: Progress

    public var have: Bitfield? { picker?.have }
    public var isComplete: Bool { picker?.isComplete ?? false }
    public var verifiedBytes: Int64 {
        guard let info, let have = picker?.have else { return 0 }
        var total = Int64(have.setCount) * Int64(info.pieceLength)
        if info.pieceCount > 0, have[info.pieceCount - 1] {
            total -= Int64(info.pieceLength - info.layout.length(ofPiece: info.pieceCount - 1))
        }
        return total
    }

    /// Nothing can change its numbers until something comes from outside (a peer, a file
    /// priority): no peer, no piece being assembled, decoded or stored.
    public var isAtRest: Bool { peers.isEmpty && assemblies.isEmpty && storing.isEmpty && finishing.isEmpty }

    public var peerStats: [PeerStats] {
        peers.values.map { peer in
            PeerStats(key: peer.key, address: peer.address, client: peer.extensions?.client ?? peer.peerID.description,
                      downloadRate: peer.download.bytesPerSecond, uploadRate: peer.upload.bytesPerSecond,
                      downloaded: peer.download.total, uploaded: peer.upload.total,
                      requestsOutstanding: peer.requestsInFlight, requestQueueTarget: peer.targetQueue,
                      amChoking: peer.amChoking, peerChoking: peer.peerChoking, snubbed: peer.snubbed,
                      isSeed: peer.isSeed, hashFailures: peer.soleHashFailures + peer.sharedHashFailures,
                      fountain: isFountainPeer(peer), repairSymbols: fountainReceiver.symbolsTaken(from: peer.key))
        }
    }

    /// Connected peers worth having. Downloading: those with pieces we lack
    /// (before the metadata: those that can send it). Seeding: those that are
    /// not seeds. A peer that has not said what it has yet does not count.
    public var usefulPeerCount: Int {
        peers.values.reduce(0) { count, peer in
            let useful: Bool
            if info == nil {
                useful = metadataExchange.mayServe(peer.key, advertisedSize: peer.extensions?.metadataSize)
            } else if isComplete {
                useful = peer.pieces != nil && !peer.isSeed
            } else {
                useful = peer.interestingCount > 0
            }
            return count + (useful ? 1 : 0)
        }
    }

    /// Whether a peer that has left was a seed then (kept for the last 256 departures).
    public func departedAsSeed(_ key: PeerKey) -> Bool { departedSeeds.contains(key) }

    public var downloadRate: Double { peers.values.reduce(0) { $0 + $1.download.bytesPerSecond } }
    public var uploadRate: Double { peers.values.reduce(0) { $0 + $1.upload.bytesPerSecond } }

    public mutating func takeActions() -> [TorrentAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    // MARK: Peers

    /// A peer finished the handshake (either direction); greets it. `remoteIP`
    /// (4 or 16 bytes) is echoed as BEP 10 `yourip` so the peer learns its address.
    /// `dialed`: the address we connected to (nil for an incoming peer).
    public mutating func peerConnected(_ key: PeerKey, address: String, handshake: Handshake, now: Double,
                                       remoteIP: [UInt8]? = nil, dialed: PeerAddress? = nil, overUTP: Bool = false) {
        let peer = PeerRecord(key: key, address: address, handshake: handshake, now: now,
                              initialQueue: configuration.initialRequestQueue,
                              dialed: dialed, remoteIP: remoteIP.flatMap { IPAddress(bytes: $0) }, overUTP: overUTP)
        peers[key] = peer
        if peer.supportsExtensions { sendExtensionHandshake(to: key, yourIP: remoteIP) }
        sendPieceAnnouncement(to: key)
        if peer.supportsFast, let remoteIP, let info, let have = picker?.have {
            sendAllowedFast(to: key, remoteIP: remoteIP, info: info, have: have)
        }
        if peer.supportsDHT, let dhtPort { actions.append(.send(key, .port(dhtPort))) }
    }

    /// The connection is gone: its requests go back to the pool.
    public mutating func peerDisconnected(_ key: PeerKey) {
        guard let peer = peers.removeValue(forKey: key) else { return }
        pex?.peerGone(key)
        holepunch?.peerGone(key)
        fountainServer.peerGone(key)
        fountainReceiver.peerGone(key)
        metadataExchange.peerGone(key)
        if departed.count >= 256 {
            departed.removeAll()
            departedSeeds.removeAll()
        }
        departed[key] = (peer.address, peer.peerID)
        if peer.isSeed { departedSeeds.insert(key) }
        for request in peer.requests.outstanding.keys { release(request) }
        if let pieces = peer.pieces { picker?.peerLeft(with: pieces) }
        if !peer.amChoking { fillUnchokeSlots(now: lastTick ?? 0) }
    }

    /// Bans a peer for any reason (hash failures, wrong symbols, protocol abuse),
    /// also one that just left. What it sent for pieces still being put
    /// together is thrown away and asked of others.
    public mutating func ban(_ key: PeerKey, reason: String) {
        guard bannedKeys.insert(key).inserted else { return }
        guard let identity = peers[key].map({ ($0.address, $0.peerID) }) ?? departed[key] else { return }
        actions.append(.ban(key, address: identity.0, peerID: identity.1, reason: reason))
        peerDisconnected(key)
        for piece in assemblyOrder where assemblies[piece]?.phase == .collecting { assemblies[piece]!.purge(key) }
    }

    mutating func disconnect(_ key: PeerKey, _ reason: String) {
        guard peers[key] != nil else { return }
        actions.append(.disconnect(key, reason: reason))
        peerDisconnected(key)
    }

    /// Our bitfield, have_all or have_none, whichever says it best.
    mutating func sendPieceAnnouncement(to key: PeerKey) {
        guard let peer = peers[key] else { return }
        guard let have = picker?.have else {
            if peer.supportsFast { actions.append(.send(key, .haveNone)) }
            return
        }
        if peer.supportsFast, have.isComplete {
            actions.append(.send(key, .haveAll))
        } else if peer.supportsFast, have.isEmpty {
            actions.append(.send(key, .haveNone))
        } else if !have.isEmpty {
            actions.append(.send(key, .bitfield(have.bytes)))
        }
    }

    /// BEP 6: up to `allowedFastCount` pieces this peer may have even while choked
    /// (those of its canonical set that we have), so a newcomer can start at once.
    mutating func sendAllowedFast(to key: PeerKey, remoteIP: [UInt8], info: TorrentInfo, have: Bitfield) {
        let allowed = AllowedFast.pieces(forIPv4: remoteIP, infoHash: info.infoHash, pieceCount: info.pieceCount,
                                         count: configuration.allowedFastCount).filter { have[$0] }
        peers[key]!.allowedFastToPeer = Set(allowed)
        for piece in allowed { actions.append(.send(key, .allowedFast(piece: piece))) }
    }

    /// Switches from metadata exchange to downloading once the info is known.
    mutating func adopt(_ info: TorrentInfo, have: Bitfield) {
        self.info = info
        var picker = PiecePicker(pieceCount: info.pieceCount, have: have)
        picker.randomFirstPieces = configuration.randomFirstPieces
        if let filePriorities, filePriorities.count == info.files.count {
            picker.setPriorities(PiecePriorities.pieces(of: info.layout, filePriorities: filePriorities))
        }
        self.picker = picker
        metadataExchange.finish()
        for key in Array(peers.keys) { applyEarlyAnnouncements(key) }
    }

    // MARK: Time

    /// Called about once a second: rates, timeouts, choking, metadata retries.
    public mutating func tick(now: Double) {
        lastTick = now
        for key in Array(peers.keys) {
            guard peers[key] != nil else { continue }
            peers[key]!.download.sample(now: now)
            peers[key]!.upload.sample(now: now)
            if now - peers[key]!.lastMessageAt > configuration.idleTimeout {
                disconnect(key, "silent for \(Int(configuration.idleTimeout)) s")
                continue
            }
            updateQueueTarget(&peers[key]!)
            checkRequestTimeouts(key, now: now)
            forgetSettledLateRequests(key)
            requestMetadataIfNeeded(key, now: now)
        }
        if choker.roundDue(now: now) { chokeRound(now: now) }
        reviewFountainPieces()
        exchangePeers(now: now)
        // Fastest peers choose first; snubbed ones get what is left.
        let order = peers.values.sorted { a, b in
            a.snubbed != b.snubbed ? !a.snubbed : a.download.bytesPerSecond > b.download.bytesPerSecond
        }.map(\.key)
        for key in order { fillRequests(key, now: now) }
    }
}

extension TorrentMachine {
    /// Hands the queued actions over by swapping buffers with `other` (which
    /// must be empty), so no array is allocated per event on the hot path.
    public mutating func swapActions(_ other: inout [TorrentAction]) {
        precondition(other.isEmpty)
        swap(&actions, &other)
    }
}
