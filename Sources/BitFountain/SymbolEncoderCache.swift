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

    private var entries: ByteBudgetCache<Key, EventLoopFuture<BlockEncoder>>

    init(budgetBytes: Int) {
        entries = ByteBudgetCache(budgetBytes: budgetBytes)
    }

    /// Bytes an encoder for a piece of `length` bytes keeps alive.
    static func footprint(ofPieceLength length: Int) -> Int {
        let k = (length + BFFountain.symbolSize - 1) / BFFountain.symbolSize
        return (try? BlockEncoder.memoryFootprint(sourceSymbols: k, symbolSize: BFFountain.symbolSize)) ?? Int.max
    }

    /// The cached encoder, or a new one from `build`, kept when it fits the budget.
    func encoder(for key: Key, pieceLength: Int, build: () -> EventLoopFuture<BlockEncoder>) -> EventLoopFuture<BlockEncoder> {
        if let cached = entries.value(for: key) { return cached }
        let future = build()
        if entries.insert(future, bytes: Self.footprint(ofPieceLength: pieceLength), for: key) {
            // A failed build (a read error) is dropped, so the next request tries again.
            future.assumeIsolated().whenFailure { [weak self] _ in self?.entries.remove(key) { $0 === future } }
        }
        return future
    }
}

/// Values that each take some bytes, kept within a budget: the least recently
/// used go first when room is needed. A plain value, no locking.
struct ByteBudgetCache<Key: Hashable, Value> {
    private struct Entry {
        let value: Value
        let bytes: Int
        var lastUse: UInt64
    }

    let budgetBytes: Int
    private var entries: [Key: Entry] = [:]
    private(set) var usedBytes = 0
    private var clock: UInt64 = 0

    init(budgetBytes: Int) {
        self.budgetBytes = max(0, budgetBytes)
    }

    var count: Int { entries.count }

    /// The value under `key`, now the most recently used.
    mutating func value(for key: Key) -> Value? {
        guard entries[key] != nil else { return nil }
        clock += 1
        entries[key]!.lastUse = clock
        return entries[key]!.value
    }

    /// Keeps a value, dropping the least recently used ones until it fits.
    /// False (nothing kept, nothing dropped) when it is larger than the whole budget.
    @discardableResult
    mutating func insert(_ value: Value, bytes: Int, for key: Key) -> Bool {
        guard bytes <= budgetBytes else { return false }
        remove(key) { _ in true }
        while usedBytes + bytes > budgetBytes, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            usedBytes -= entries.removeValue(forKey: oldest)!.bytes
        }
        clock += 1
        entries[key] = Entry(value: value, bytes: bytes, lastUse: clock)
        usedBytes += bytes
        return true
    }

    /// Drops the value under `key` if `matches` says so.
    mutating func remove(_ key: Key, if matches: (Value) -> Bool) {
        guard let entry = entries[key], matches(entry.value) else { return }
        usedBytes -= entry.bytes
        entries.removeValue(forKey: key)
    }
}
