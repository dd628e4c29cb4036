import Metainfo
import NIOCore
import PeerWire
import RaptorQ

/// The intermediate symbols of hot pieces (`--symbol-cache`, default 256 MiB
/// for the whole node): with them, a repair symbol costs a few XORs of 16 KiB
/// instead of a solve over the piece. Least recently used encoders go first.
///
/// An entry is the future of an encoder, so requests for a piece whose encoder
/// is still being built wait for that one build. A piece whose encoder is
/// larger than the whole budget is built for each batch and not kept.
/// Event-loop confined.
final class SymbolEncoderCache {
    struct Key: Hashable {
        let infoHash: InfoHash
        let piece: Int
    }

    private struct Entry {
        let encoder: EventLoopFuture<BlockEncoder>
        let bytes: Int
        var lastUse: UInt64
    }

    let budgetBytes: Int
    private var entries: [Key: Entry] = [:]
    private var usedBytes = 0
    private var clock: UInt64 = 0
    private(set) var hits = 0
    private(set) var misses = 0

    init(budgetBytes: Int) {
        self.budgetBytes = max(0, budgetBytes)
    }

    var count: Int { entries.count }
    var bytesInUse: Int { usedBytes }

    /// Bytes an encoder for a piece of `length` bytes keeps alive.
    static func footprint(ofPieceLength length: Int) -> Int {
        let k = (length + BFFountain.symbolSize - 1) / BFFountain.symbolSize
        return (try? BlockEncoder.memoryFootprint(sourceSymbols: k, symbolSize: BFFountain.symbolSize)) ?? Int.max
    }

    /// The cached encoder, or a new one from `build`, kept when it fits the budget.
    func encoder(for key: Key, pieceLength: Int, build: () -> EventLoopFuture<BlockEncoder>) -> EventLoopFuture<BlockEncoder> {
        clock += 1
        if let entry = entries[key] {
            hits += 1
            entries[key]!.lastUse = clock
            return entry.encoder
        }
        misses += 1
        let future = build()
        let bytes = Self.footprint(ofPieceLength: pieceLength)
        guard bytes <= budgetBytes else { return future }
        while usedBytes + bytes > budgetBytes, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            usedBytes -= entries.removeValue(forKey: oldest)!.bytes
        }
        entries[key] = Entry(encoder: future, bytes: bytes, lastUse: clock)
        usedBytes += bytes
        future.assumeIsolated().whenFailure { [weak self] _ in self?.remove(key, future: future) }
        return future
    }

    /// Drops a failed build (a read error), so the next request tries again.
    private func remove(_ key: Key, future: EventLoopFuture<BlockEncoder>) {
        guard let entry = entries[key], entry.encoder === future else { return }
        usedBytes -= entry.bytes
        entries.removeValue(forKey: key)
    }
}
