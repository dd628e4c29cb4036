import Identity
import Metainfo
import NIOCore
import NIOPosix
import PeerWire
import Swarm

/// Runs one torrent on the node's event loop: feeds the sans-I/O
/// `TorrentMachine` with what the connections receive, and carries out what it
/// asks (send, serve from disk, verify and write pieces, ban, connect).
/// Everything here runs on `loop`; disk work and hashing go to the I/O pool.
public final class TorrentSession: @unchecked Sendable {
    public let infoHash: InfoHash
    unowned let node: SwarmNode
    let loop: EventLoop
    let spec: TorrentSpec
    var machine: TorrentMachine
    var storage: TorrentStorage?
    /// Made with the first piece served (`readCacheForServing`): most of a
    /// daemon's torrents are never asked for anything.
    var readCache: PieceReadCache?
    var connections: [UInt64: PeerConnection] = [:]
    var addressBook = PeerAddressBook()
    var connecting: Set<PeerAddress> = []
    var bannedIDs: Set<PeerID> = []
    private var scratch: [TorrentAction] = []
    var dirty: [PeerConnection] = []
    var pumpingServes = false
    var runningActions = false
    var stopped = false
    var resumeDirty = false
    var lastResumeSave: Double = 0
    /// The newest resume save, which the next one waits for (see `saveResume`).
    var resumeSaving: EventLoopFuture<Void>?
    let completionPromise: EventLoopPromise<Void>
    /// Told of every completion and of the failure (TorrentSession+Completion.swift).
    var outcomeHandlers: [@Sendable (Result<Void, SessionError>) -> Void] = []
    /// The present completion was told; cleared when un-skipped files make it download again.
    var completionReported = false
    private(set) var failure: SessionError?
    let startTime: Double
    /// `SwarmNode.changedStats` handed out this torrent's numbers while it was at rest; they
    /// hold until it stirs or its file priorities change.
    var statsReadAtRest = false
    /// This torrent's own limits (`setLimits`), applied beside the node's (TorrentSession+Limits.swift).
    let uploadLimiter: UploadLimiter
    var downloadBucket: TokenBucket

    /// Succeeds when every wanted piece is verified on disk; fails if the session cannot go
    /// on. One-shot: `onEachOutcome` also hears of completions after un-skipping files.
    public var completion: EventLoopFuture<Void> { completionPromise.futureResult }

    init(node: SwarmNode, spec: TorrentSpec, machine: TorrentMachine, storage: TorrentStorage?) {
        self.node = node
        self.spec = spec
        infoHash = spec.infoHash
        loop = node.loop
        self.machine = machine
        self.storage = storage
        uploadLimiter = UploadLimiter(bytesPerSecond: spec.uploadLimit, loop: node.loop)
        downloadBucket = TokenBucket(bytesPerSecond: spec.downloadLimit, now: SwarmNode.now())
        completionPromise = node.loop.makePromise()
        startTime = SwarmNode.now()
        for peer in spec.peers { addressBook.add(peer) }
    }

    /// `saveResumeSoon`: the pieces on disk were just rechecked, so write them down at the first tick.
    func start(saveResumeSoon: Bool) {
        loop.preconditionInEventLoop()
        if saveResumeSoon {
            resumeDirty = true
            lastResumeSave = -.infinity
        }
        // The first tick at once; the node ticks every session each second after that.
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.execute { bound.value.tick() }
        if machine.isComplete { reportCompletion() }
        applyDownloadLimits()
    }

    // MARK: Public API (any thread)

    public func snapshot() -> EventLoopFuture<TorrentStats> {
        loop.submit { self.makeSnapshot() }
    }

    public func addPeers(_ peers: [PeerAddress]) {
        loop.execute {
            for peer in peers where !self.node.isOwnAddress(peer) { self.addressBook.add(peer) }
            self.connectMore()
        }
    }

    /// Saves resume data and closes every connection.
    public func stop() -> EventLoopFuture<Void> {
        loop.flatSubmit {
            guard !self.stopped else { return self.loop.makeSucceededVoidFuture() }
            self.stopped = true
            for connection in self.connections.values { connection.close() }
            self.completionPromise.fail(SessionError("stopped"))
            return self.saveResume()
        }
    }

    // MARK: Connections (event loop)

    func handshakeBytes() -> ByteBuffer {
        node.limiter.charge(Handshake.length)
        uploadLimiter.charge(Handshake.length)
        return ByteBuffer(bytes: ourHandshake.encoded)
    }

    /// Extension protocol and fast extension always; the DHT bit only when a DHT runs.
    var ourHandshake: Handshake {
        var reserved = ReservedBits.bitFountain
        reserved.dht = node.options.dhtPort != nil
        return Handshake(reserved: reserved, infoHash: infoHash, peerID: node.peerID)
    }

    /// A peer finished its handshake; nil when it is refused (banned, ourselves, a duplicate, limits).
    func attach(channel: Channel, handshake: Handshake, address: PeerAddress, outgoing: Bool) -> UInt64? {
        connecting.remove(address)
        if handshake.peerID == node.peerID {
            // Our own announce came back from the DHT (or PEX): never dial that address again.
            if outgoing { addressBook.ban(address) }
            SwarmNode.trace("refused \(address): it is ourselves")
            return nil
        }
        if let existing = machine.peers.values.first(where: { $0.peerID == handshake.peerID }), !stopped,
           DuplicateConnection.newReplacesExisting(
               newIsOutgoing: outgoing, existingIsOutgoing: existing.outgoing, ours: node.peerID, theirs: handshake.peerID,
               ourListenPort: node.port, theirListenPort: outgoing ? address.port : existing.listenAddress?.port ?? 0) {
            SwarmNode.trace("\(address): a connection each way; keeping this one, closing #\(existing.key)")
            machine.peerDisconnected(existing.key)
            closeConnection(existing.key)
        }
        guard !stopped, !bannedIDs.contains(handshake.peerID),
              !addressBook.isBanned(address),
              connections.count < node.maxPeersPerTorrent, node.connectionCount < node.maxConnections,
              !machine.peers.values.contains(where: { $0.peerID == handshake.peerID }) else {
            if outgoing { addressBook.markDisconnected(address, now: SwarmNode.now(), failed: true) }
            SwarmNode.trace("refused \(address) (\(handshake.peerID))")
            return nil
        }
        let key = node.makeKey()
        SwarmNode.trace("connected \(outgoing ? "to" : "from") \(address) (\(handshake.peerID)) as #\(key)")
        let connection = PeerConnection(key: key, channel: channel, address: address, outgoing: outgoing, limiter: node.limiter,
                                        torrentLimiter: uploadLimiter)
        connections[key] = connection
        stir()
        node.sessionsWithPeers.insert(infoHash)
        node.connectionCount += 1
        // Refills from inside `pump`, which writes what was queued: no flush needed here.
        connection.onDrain = { [unowned self, unowned connection] in self.pumpServes(connection) }
        if !outgoing {
            node.limiter.charge(Handshake.length)
            uploadLimiter.charge(Handshake.length)
            connection.sendRaw(ourHandshake.encoded)
        } else {
            addressBook.markConnected(address)
        }
        machine.peerConnected(key, address: address.description, handshake: handshake, now: SwarmNode.now(),
                              remoteIP: address.ip.bytes, dialed: outgoing ? address : nil, overUTP: channel is UTPChannel)
        markDirty(connection)
        runActions()
        flushConnections()
        return key
    }

    func received(_ message: PeerMessage, from key: UInt64) {
        machine.received(message, from: key, now: SwarmNode.now())
        runActions()
    }

    func protocolError(_ key: UInt64, _ reason: String) {
        SwarmNode.trace("#\(key) protocol error: \(reason)")
        machine.peerDisconnected(key)
        closeConnection(key)
        runActions()
        flushConnections()
    }

    func detached(_ key: UInt64) {
        SwarmNode.trace("#\(key) closed")
        guard let connection = connections.removeValue(forKey: key) else { return }
        node.connectionCount -= 1
        connection.close()
        machine.peerDisconnected(key)
        forget(connection)
        runActions()
        flushConnections()
    }

    func connectionFailed(_ address: PeerAddress) {
        guard connecting.remove(address) != nil else { return }
        addressBook.markDisconnected(address, now: SwarmNode.now(), failed: true)
        // Unreachable (behind a NAT?): a holepunch relay may introduce us (BEP 55).
        machine.dialFailed(address, now: SwarmNode.now())
        runActions()
        flushConnections()
    }

    func writable(_ key: UInt64) {
        connections[key]?.pump()
    }

    func closeConnection(_ key: UInt64) {
        guard let connection = connections.removeValue(forKey: key) else { return }
        node.connectionCount -= 1
        connection.close()
        forget(connection)
    }

    /// Books a closed connection: where the peer listens (the address we
    /// dialled, or the `p` an incoming peer sent) may be dialled again later,
    /// unless it was a seed and so are we.
    private func forget(_ connection: PeerConnection) {
        guard let listening = connection.listenAddress else { return }
        addressBook.markDisconnected(listening, now: SwarmNode.now(), failed: false)
        if machine.departedAsSeed(connection.key) { addressBook.markSeed(listening) }
    }

    func markDirty(_ connection: PeerConnection) {
        dirty.append(connection)
    }

    /// Sends what the last batch of actions queued, one write per connection.
    func flushConnections() {
        guard !dirty.isEmpty else { return }
        let batch = dirty
        dirty.removeAll(keepingCapacity: true)
        var seen = Set<UInt64>()
        for connection in batch where seen.insert(connection.key).inserted { connection.flush() }
    }

    /// Dials addresses from the book while there is room. Seeds dial too (the
    /// downloaders the DHT and PEX tell them of, as libtorrent's seeds do: some
    /// clients never dial a peer they found in the DHT), but not other seeds.
    func connectMore() {
        guard !stopped else { return }
        let room = min(node.maxPeersPerTorrent - connections.count - connecting.count,
                       node.maxConnections - node.connectionCount - connecting.count)
        let candidates = addressBook.takeCandidates(now: SwarmNode.now(), limit: min(room, 10),
                                                    skippingSeeds: machine.isComplete)
        for address in candidates {
            connecting.insert(address)
            stir()
            node.connect(to: address, for: self)
        }
    }

    /// Once a second, from the node's one timer for all sessions (`SwarmNode.tickSessions`).
    func tick() {
        guard !stopped else { return }
        let now = SwarmNode.now()
        machine.tick(now: now)
        runActions()
        let idle = NIODeadline.now() - .seconds(90)
        for connection in connections.values where connection.lastWrite < idle {
            connection.send(.keepAlive)
            markDirty(connection)
        }
        flushConnections()
        connectMore()
        if resumeDirty, now - lastResumeSave >= node.options.resumeSaveInterval {
            _ = saveResume()
        }
    }

    /// Something began that will change this torrent's numbers (a peer, a dial, other file
    /// priorities): if they were last read at rest, `SwarmNode.changedStats` reads them again.
    func stir() {
        guard statsReadAtRest else { return }
        statsReadAtRest = false
        node.stirringSessions.insert(infoHash)
    }

    var hasConnections: Bool { !connections.isEmpty }

    func makeSnapshot() -> TorrentStats {
        Self.stats(of: &machine, infoHash: infoHash, connectedPeers: connections.count, startTime: startTime)
    }

    /// The numbers, or nil when the last ones handed out here were read at rest and the torrent
    /// has not stirred since (`SwarmNode.changedStats`).
    func statsIfChanged() -> TorrentStats? {
        let atRest = connections.isEmpty && connecting.isEmpty && Self.isAtRest(&machine)
        if atRest, statsReadAtRest { return nil }
        statsReadAtRest = atRest
        return makeSnapshot()
    }

    /// `inout` only so that the machine is not copied (see `stats(of:)`).
    private static func isAtRest(_ machine: inout TorrentMachine) -> Bool { machine.isAtRest }

    /// The numbers of `machine`, read in place: `inout` only so that it is not copied. Each
    /// computed property read through the class's stored property copied the whole machine
    /// (forty-odd references retained and released), a dozen times per torrent, and a daemon's
    /// `Session.list` reads every torrent's numbers.
    private static func stats(of machine: inout TorrentMachine, infoHash: InfoHash, connectedPeers: Int,
                              startTime: Double) -> TorrentStats {
        let info = machine.info
        let wanted = machine.wantedBytes
        return TorrentStats(
            infoHash: infoHash, name: info?.name, hasMetadata: info != nil,
            totalBytes: info?.totalLength ?? 0, verifiedBytes: machine.verifiedBytes,
            wantedBytes: wanted.wanted, wantedVerifiedBytes: wanted.done,
            pieceCount: info?.pieceCount ?? 0, piecesVerified: machine.have?.setCount ?? 0,
            downloadRate: machine.downloadRate, uploadRate: machine.uploadRate,
            downloadedPayload: machine.downloadedPayload, uploadedPayload: machine.uploadedPayload,
            hashFailures: machine.hashFailures, connectedPeers: connectedPeers, usefulPeers: machine.usefulPeerCount,
            peersContributed: machine.contributingPeers.count, isComplete: machine.isComplete,
            // `peerStats` copies the machine into its closure, even for no peer at all.
            peers: machine.peers.isEmpty ? [] : machine.peerStats,
            repairSymbolsReceived: machine.repairSymbolsReceived, piecesDecoded: machine.piecesDecoded,
            symbolsUploaded: machine.symbolsUploaded, pollutedSymbols: machine.pollutedSymbols, wastedBytes: machine.wastedBytes,
            firstPayloadSeconds: machine.firstPayloadAt.map { $0 - startTime })
    }

    func fail(_ error: SessionError) {
        guard failure == nil else { return }
        failure = error
        _ = saveResume()
        completionPromise.fail(error)
        for handler in outcomeHandlers { handler(.failure(error)) }
    }

    /// Runs the machine's queued actions until it has no more. Re-entrant calls
    /// (an action whose effect feeds the machine again, like a cached read
    /// completing at once or a close firing `channelInactive`) return at once:
    /// the outer loop picks up what they queued.
    func runActions() {
        guard !runningActions else { return }
        runningActions = true
        defer { runningActions = false }
        while true {
            machine.swapActions(&scratch)
            if scratch.isEmpty {
                // A pipeline went short for want of download allowance: wait for a top-up.
                if machine.requestsHeldBack { node.downloadLimiter.enqueue(self) }
                return
            }
            for action in scratch { execute(action) }
            scratch.removeAll(keepingCapacity: true)
        }
    }
}
