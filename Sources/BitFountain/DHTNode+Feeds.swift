import Bencode
import DHT
import Identity
import Metainfo

/// BEP 44 items and BEP 46 feeds on a running node.
extension DHTNode {
    /// BEP 44 get in every family; `.item` updates carry each valid, newer copy.
    public func getItem(_ query: ItemQuery) -> AsyncStream<DHTLookupUpdate> {
        lookup { core, family, now in core.getItem(query, family: family, now: now) }
    }

    /// BEP 44 put in every family; the summaries' `storedTo` count the nodes that took it.
    public func putItem(_ item: DHTItem, cas: Int64? = nil) -> AsyncStream<DHTLookupUpdate> {
        lookup { core, family, now in core.putItem(item, cas: cas, family: family, now: now) }
    }

    /// The newest valid item found for `query` (nil: nobody has it), once the lookups end.
    public func resolveItem(_ query: ItemQuery) async -> ItemReply? {
        _ = await waitForNodes(1, timeout: DHTNode.tableWait)
        var best: ItemReply?
        for await update in getItem(query) {
            guard case .item(let reply) = update else { continue }
            if best.map({ BEP46.isNewer(reply.item, than: $0.item) }) ?? true { best = reply }
        }
        return best
    }

    /// Puts `item`; returns how many nodes acknowledged it.
    @discardableResult
    public func storeItem(_ item: DHTItem) async -> Int {
        _ = await waitForNodes(1, timeout: DHTNode.tableWait)
        var stored = 0
        for await update in putItem(item) {
            if case .finished(let summary) = update { stored += summary.storedTo }
        }
        return stored
    }

    /// The latest version a feed points to: its signed item and the infohash in it.
    public func resolveFeed(_ link: FeedLink) async -> FeedVersion? {
        guard let reply = await resolveItem(.mutable(publicKey: link.publicKey, salt: link.salt)),
              case .mutable(let item) = reply.item, let infoHash = BEP46.infoHash(in: item.value) else { return nil }
        return FeedVersion(item: item, infoHash: infoHash)
    }
}

/// One version of a feed: the signed item as found (what a follower re-puts)
/// and the infohash it names.
public struct FeedVersion: Sendable, Equatable {
    public var item: MutableItem
    public var infoHash: InfoHash
    public var sequence: Int64 { item.sequence }

    public init(item: MutableItem, infoHash: InfoHash) {
        self.item = item
        self.infoHash = infoHash
    }
}

/// BEP 46: a feed's value is `{ih: <20-byte infohash>}`.
public enum BEP46 {
    public static func value(for infoHash: InfoHash) -> [UInt8] {
        BValue.dict(["ih": .bytes(infoHash.bytes)]).encoded
    }

    /// The infohash in a feed value; nil when the value is not one.
    public static func infoHash(in value: [UInt8]) -> InfoHash? {
        guard let node = try? BencodeDecoder(limits: BencodeLimits(maxDepth: 8)).decode(value),
              let bytes = node["ih"]?.bytes else { return nil }
        return InfoHash(bytes: bytes)
    }

    /// Signs the next version of a feed: `sequence` must exceed every earlier one.
    public static func item(for infoHash: InfoHash, sequence: Int64, salt: [UInt8], key: Ed25519.SigningKey) -> MutableItem {
        MutableItem(signing: value(for: infoHash), sequence: sequence, salt: salt, with: key)
    }

    static func isNewer(_ item: DHTItem, than current: DHTItem) -> Bool {
        if case .mutable(let new) = item, case .mutable(let old) = current { return new.sequence > old.sequence }
        return false
    }
}
