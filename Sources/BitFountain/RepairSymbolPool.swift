import Foundation
import Metainfo
import NIOCore
import NIOPosix
import PeerWire
import RaptorQ

/// Produces the bf_fountain symbols a node serves, off the event loop: a
/// bounded pool of worker threads builds encoders (the piece read from disk,
/// then RFC 6330's intermediate symbols, kept in the `SymbolEncoderCache`) and
/// encodes batches of ESIs into one buffer. Connections ask for at most a few
/// batches at a time, so the pool's queue stays short however many peers ask.
///
/// Only verified pieces are ever asked for: the state machine serves symbols
/// of pieces in its `have` set, which holds pieces hashed before they were written.
final class RepairSymbolPool {
    private let workers: NIOThreadPool
    private let loop: EventLoop
    let cache: SymbolEncoderCache
    /// Test only (`BITFOUNTAIN_TEST_MODE=corrupt-repair-symbols`): repair symbols are random bytes.
    private let corruptRepairSymbols: Bool

    /// Symbols encoded per job: 256 KiB, so a job is short and a cancel takes effect soon.
    static let batchLimit = 16

    init(threads: Int, loop: EventLoop, cacheBytes: Int, corruptRepairSymbols: Bool) {
        workers = NIOThreadPool(numberOfThreads: max(1, threads))
        workers.start()
        self.loop = loop
        cache = SymbolEncoderCache(budgetBytes: cacheBytes)
        self.corruptRepairSymbols = corruptRepairSymbols
    }

    func shutdown() async {
        try? await workers.shutdownGracefully()
    }

    /// The symbols `esis` of a piece, T bytes each, in order, in one buffer.
    func symbols(infoHash: InfoHash, piece: Int, esis: [UInt32], reader: PieceReadCache) -> EventLoopFuture<ByteBuffer> {
        let length = reader.pieceLength(piece)
        let workers = self.workers
        let loop = self.loop
        let encoder = cache.encoder(for: .init(infoHash: infoHash, piece: piece), pieceLength: length) {
            reader.piece(piece).flatMap { bytes in
                workers.runIfActive(eventLoop: loop) { () throws -> BlockEncoder in
                    try bytes.withUnsafeReadableBytes { source in
                        try BlockEncoder(source: UnsafeRawBufferPointer(rebasing: source[0..<length]), symbolSize: BFFountain.symbolSize)
                    }
                }
            }
        }
        let corrupt = corruptRepairSymbols
        return encoder.flatMap { encoder in
            workers.runIfActive(eventLoop: loop) { () throws -> ByteBuffer in
                let size = BFFountain.symbolSize
                var out = ByteBufferAllocator().buffer(capacity: esis.count * size)
                try out.writeWithUnsafeMutableBytes(minimumWritableBytes: esis.count * size) { target in
                    for (offset, esi) in esis.enumerated() {
                        let slot = UnsafeMutableRawBufferPointer(rebasing: target[(offset * size)..<((offset + 1) * size)])
                        if corrupt, esi >= UInt32(encoder.sourceSymbolCount) {
                            for index in slot.indices { slot[index] = UInt8.random(in: 0...255) }
                        } else {
                            try encoder.encode(esi: esi, into: slot)
                        }
                    }
                    return esis.count * size
                }
                return out
            }
        }
    }
}
