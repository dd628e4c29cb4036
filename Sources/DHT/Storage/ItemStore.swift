import Identity

/// BEP 44 items stored on this node, bounded like the peer store: at most
/// `maxItems` items and `maxBytes` bytes in all, each expiring `lifetime`
/// after its last put (BEP 44: items may expire after 2 hours; publishers
/// re-put hourly). When full, the item put least recently makes room.
///
/// Only items that passed every check reach `store`: the signature and the
/// size limits are the core's business (they decide the error code), the
/// ordering rules (`cas`, `seq`) are this store's.
public struct ItemStore: Sendable {
    public struct Limits: Sendable {
        public var maxItems = 2_000
        public var maxBytes = 4 << 20
        public var lifetime: DHTDuration = .minutes(120)
        public init() {}
    }

    struct Entry: Sendable {
        var item: DHTItem
        var lastPut: DHTInstant
        var cost: Int
    }

    public let limits: Limits
    private var entries: [NodeID: Entry] = [:]
    public private(set) var byteCount = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var count: Int { entries.count }

    /// What an item costs against `maxBytes`: its value and salt, its key and
    /// signature, and a fixed allowance for the entry itself.
    static func cost(of item: DHTItem) -> Int {
        switch item {
        case .immutable(let value): return value.count + 64
        case .mutable(let mutable): return mutable.value.count + mutable.salt.count + 96 + 64
        }
    }

    /// The live item under `target`.
    public func item(at target: NodeID, now: DHTInstant) -> DHTItem? {
        guard let entry = entries[target], now.since(entry.lastPut) < limits.lifetime else { return nil }
        return entry.item
    }

    /// Stores a checked item under its target. A mutable item replaces the
    /// one stored only with a higher sequence number (an equal one with the
    /// same value just refreshes it), and only if `cas`, when given, names the
    /// stored sequence number; the error says why not (BEP 44 codes 301, 302).
    public mutating func store(_ item: DHTItem, target: NodeID, cas: Int64?, now: DHTInstant) -> KRPCError? {
        if let existing = entries[target], now.since(existing.lastPut) < limits.lifetime {
            if case .mutable(let new) = item, case .mutable(let old) = existing.item {
                if let cas, cas != old.sequence {
                    return KRPCError(code: KRPCError.casMismatch, message: "cas mismatch: stored seq is \(old.sequence)")
                }
                if new.sequence < old.sequence || (new.sequence == old.sequence && new.value != old.value) {
                    return KRPCError(code: KRPCError.sequenceTooLow, message: "sequence number less than current")
                }
            }
            if existing.item == item {
                entries[target]!.lastPut = now
                return nil
            }
            remove(target)
        } else if entries[target] != nil {
            remove(target)
        }
        let cost = Self.cost(of: item)
        while !entries.isEmpty, entries.count >= limits.maxItems || byteCount + cost > limits.maxBytes {
            evictStalest()
        }
        guard cost <= limits.maxBytes else { return KRPCError(code: KRPCError.server, message: "store full") }
        entries[target] = Entry(item: item, lastPut: now, cost: cost)
        byteCount += cost
        return nil
    }

    /// Drops items not re-put within their lifetime.
    public mutating func expire(now: DHTInstant) {
        for (target, entry) in entries where now.since(entry.lastPut) >= limits.lifetime { remove(target) }
    }

    private mutating func remove(_ target: NodeID) {
        guard let entry = entries.removeValue(forKey: target) else { return }
        byteCount -= entry.cost
    }

    private mutating func evictStalest() {
        guard let stalest = entries.min(by: { $0.value.lastPut < $1.value.lastPut }) else { return }
        remove(stalest.key)
    }
}
