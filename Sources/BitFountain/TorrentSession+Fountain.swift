import NIOCore
import PeerWire
import Swarm

/// The bf_fountain work of a session: encoding the symbols peers ask for (on
/// the node's repair pool) and decoding pieces rebuilt from symbols (on the I/O pool).
extension TorrentSession {
    /// Encodes one batch of symbols (at most `RepairSymbolPool.batchLimit`; the
    /// rest goes back to the front of the queue) and queues those still wanted.
    /// The caller has counted the batch in `readsInFlight`.
    func serveSymbols(_ serve: SymbolServe, on connection: PeerConnection, reader: PieceReadCache) {
        var batch = serve
        if serve.esis.count > RepairSymbolPool.batchLimit {
            batch = SymbolServe(piece: serve.piece, esis: Array(serve.esis.prefix(RepairSymbolPool.batchLimit)),
                                extensionID: serve.extensionID)
            connection.serveQueue.prepend(.symbols(SymbolServe(piece: serve.piece, esis: Array(serve.esis.dropFirst(RepairSymbolPool.batchLimit)),
                                                               extensionID: serve.extensionID)))
        }
        let key = connection.key
        node.repairPool.symbols(infoHash: infoHash, piece: batch.piece, esis: batch.esis, reader: reader)
            .assumeIsolated().whenComplete { result in
                connection.readsInFlight -= 1
                guard !connection.closed else { return }
                switch result {
                case .success(let symbols):
                    for (offset, esi) in batch.esis.enumerated() {
                        // Still wanted? A `have`, a choke or a reject removes it from the machine's books.
                        guard self.machine.isServingSymbol(piece: batch.piece, esi: esi, to: key),
                              let slice = symbols.getSlice(at: symbols.readerIndex + offset * BFFountain.symbolSize,
                                                           length: BFFountain.symbolSize) else { continue }
                        connection.sendSymbol(extensionID: batch.extensionID, piece: batch.piece, esi: esi, data: slice)
                        self.machine.uploadedSymbol(piece: batch.piece, esi: esi, to: key)
                    }
                    self.runActions()
                case .failure(let error):
                    self.node.report(.warning("cannot encode symbols of piece \(batch.piece): \(error)"))
                    self.machine.symbolsUnavailable(piece: batch.piece, to: key)
                    self.runActions()
                }
                if !self.pumpingServes {
                    self.pumpServes(connection)
                    connection.flush()
                }
            }
    }

    /// Endgame refills between ticks (see `TorrentMachine.wantsFrequentRefills`);
    /// the node calls it every 100 ms for each of its torrents (`SwarmNode.refillSessions`).
    func refillInEndgame() {
        guard !stopped, machine.wantsFrequentRefills else { return }
        machine.refill(now: SwarmNode.now())
        runActions()
        flushConnections()
    }

    /// Rebuilds a piece from its symbols (and hunts for a polluter if it comes out wrong) off the loop.
    func decode(_ job: SymbolDecodeJob) {
        node.pool.runIfActive(eventLoop: loop) { job.run() }
            .assumeIsolated()
            .whenComplete { _ in
                // A job that could not run (shutting down) reports as pending: the machine tries again later.
                self.machine.symbolsDecoded(job, now: SwarmNode.now())
                self.runActions()
                self.flushConnections()
            }
    }
}
