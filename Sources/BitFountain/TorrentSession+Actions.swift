import Identity
import Metainfo
import NIOCore
import PeerWire
import Swarm

extension TorrentSession {
    func execute(_ action: TorrentAction) {
        switch action {
        case .send(let key, let message):
            guard let connection = connections[key] else { return }
            connection.send(message)
            markDirty(connection)
        case .serve(let key, let request):
            guard let connection = connections[key] else { return }
            connection.serveQueue.append(.block(request))
            pumpServes(connection)
        case .cancelServe(let key, let request):
            guard let connection = connections[key], let index = connection.serveQueue.firstIndex(of: .block(request)) else { return }
            connection.serveQueue.remove(at: index)
        case .serveSymbols(let key, let serve):
            guard let connection = connections[key] else { return }
            connection.serveQueue.append(.symbols(serve))
            pumpServes(connection)
        case .cancelSymbols(let key, let piece):
            connections[key]?.dropQueuedSymbols(ofPiece: piece)
        case .decode(let job):
            decode(job)
        case .store(let buffer):
            store(buffer, hashChecked: false)
        case .write(let buffer):
            store(buffer, hashChecked: true)
        case .disconnect(let key, let reason):
            SwarmNode.trace("disconnecting #\(key): \(reason)")
            closeConnection(key)
        case .ban(let key, let address, let peerID, let reason):
            bannedIDs.insert(peerID)
            if let connection = connections[key] {
                // Off loopback an address is one machine; on loopback, test peers share 127.0.0.1.
                addressBook.ban(connection.address, wholeHost: !connection.address.ip.isLoopback)
            }
            node.report(.peerBanned(infoHash: infoHash, address: address, reason: reason))
            closeConnection(key)
        case .metadataReceived(let info):
            metadataArrived(info)
        case .fail(let reason):
            fail(SessionError(reason))
        case .pieceVerified:
            resumeDirty = true
        case .completed:
            resumeDirty = true
            _ = saveResume()
            reportCompletion()
        case .dhtPort(let key, let port):
            guard let connection = connections[key] else { return }
            let discovery = node.discovery
            let address = PeerAddress(ip: connection.address.ip, port: port)
            Task { await discovery.learnedDHTNode(address) }
        case .peerListens(let key, let address):
            guard let connection = connections[key], !connection.outgoing else { return }
            connection.listenAddress = address
            addressBook.markConnected(address)
        case .peersDiscovered(let found):
            // ut_pex is the machine's only source of these (the lab's PEX test reads this line).
            SwarmNode.trace("pex: learned \(found.map { "\($0.address)" }.joined(separator: ", "))")
            for peer in found {
                let address = peer.address
                guard !node.isOwnAddress(address) else { continue }
                addressBook.add(address)
                if peer.flags.contains(.seed) { addressBook.markSeed(address) }
            }
            connectMore()
        case .holepunchDial(let address):
            // uTP only: the peer sends its SYN to us now, and ours opens our NAT for it.
            guard !stopped, !node.isOwnAddress(address), connecting.insert(address).inserted else { return }
            stir()
            SwarmNode.trace("holepunch: dialling \(address) over uTP")
            node.connect(to: address, for: self, transport: .utp)
        }
    }

    /// Verifies (unless the decode job already did) and writes a finished
    /// piece on the I/O pool, then tells the machine.
    private func store(_ buffer: PieceBuffer, hashChecked: Bool) {
        guard let storage else { return }
        let piece = buffer.piece
        // Hash on the pool (both cores), write on the single writer thread.
        let writer = node.writer
        let verified = hashChecked ? loop.makeSucceededFuture(true) : node.pool.runIfActive(eventLoop: loop) { storage.verify(buffer) }
        verified
            .flatMap { matches -> EventLoopFuture<StoreResult> in
                guard matches else { return self.loop.makeSucceededFuture(.hashMismatch) }
                return writer.runIfActive(eventLoop: self.loop) { storage.writeVerified(buffer) }
            }
            .assumeIsolated()
            .whenComplete { result in
                let outcome: StoreResult
                switch result {
                case .success(let value): outcome = value
                case .failure(let error): outcome = .writeFailed("\(error)")
                }
                self.machine.pieceStored(piece, result: outcome, now: SwarmNode.now())
                if case .writeFailed(let reason) = outcome { self.fail(SessionError(reason)) }
                self.runActions()
                self.flushConnections()
            }
    }

    /// The piece cache, made with the first piece served.
    func readCacheForServing() -> PieceReadCache? {
        if readCache == nil, let storage { readCache = PieceReadCache(storage: storage, pool: node.pool, loop: loop) }
        return readCache
    }

    /// Reads requested blocks (whole pieces, through the cache) and encodes
    /// requested symbols while the connection's outgoing queue has room, and
    /// queues each as a slice. Nothing is flushed here: what is served while
    /// handling a batch of requests goes out together when the batch ends
    /// (`flushConnections`), so the socket sees large writes rather than one per block.
    func pumpServes(_ connection: PeerConnection) {
        guard !pumpingServes, let cache = readCacheForServing() else { return }
        pumpingServes = true
        defer { pumpingServes = false }
        while connection.readsInFlight < 4, connection.queuedBytes < PeerConnection.lowWater,
              let item = connection.serveQueue.popFirst() {
            connection.readsInFlight += 1
            let request: BlockRequest
            switch item {
            case .block(let block):
                request = block
            case .symbols(let serve):
                serveSymbols(serve, on: connection, reader: cache)
                continue
            }
            let key = connection.key
            cache.piece(request.piece).assumeIsolated().whenComplete { result in
                connection.readsInFlight -= 1
                guard !connection.closed else { return }
                switch result {
                case .success(let piece):
                    // Still wanted? A cancel or a choke removes it from the machine's serving set.
                    guard self.machine.peers[key]?.isServing(request) == true,
                          let slice = piece.getSlice(at: piece.readerIndex + request.begin, length: request.length) else { break }
                    connection.sendBlock(piece: request.piece, begin: request.begin, data: slice)
                    self.machine.uploaded(request, to: key)
                    self.runActions()
                case .failure(let error):
                    self.node.report(.warning("cannot read piece \(request.piece) to serve it: \(error)"))
                    self.machine.blockUnavailable(request, to: key)
                    self.runActions()
                }
                // A disk read that finished later, outside any batch: send it now and read on.
                if !self.pumpingServes {
                    self.pumpServes(connection)
                    connection.flush()
                }
            }
        }
        if connection.hasUnsentData { markDirty(connection) }
    }

    /// A magnet download got its metadata: check where it will be written, keep a copy, go on.
    private func metadataArrived(_ info: TorrentInfo) {
        let storage = TorrentStorage(info: info, base: spec.directory, rootName: spec.rootName, writable: true)
        do {
            try storage.prepare()
        } catch {
            fail(SessionError("cannot download into \(spec.directory): \(error)"))
            return
        }
        self.storage = storage
        let state = node.stateDirectory
        _ = node.pool.runIfActive(eventLoop: loop) { try? state.saveMetadata(info) }
        node.report(.metadata(infoHash: infoHash, name: info.name, size: info.totalLength, seconds: SwarmNode.now() - startTime))
    }
}
