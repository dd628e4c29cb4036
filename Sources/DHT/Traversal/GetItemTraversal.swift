import Identity

/// What a BEP 44 `get` looks for, which decides how an answer is checked.
public enum ItemQuery: Sendable, Hashable {
    /// An immutable item: its value must hash to the target.
    case immutable(target: NodeID)
    /// A mutable item: the key must be this one, the signature must cover
    /// this salt, and (with the key) they give the target.
    case mutable(publicKey: [UInt8], salt: [UInt8])

    public var target: NodeID {
        switch self {
        case .immutable(let target): return target
        case .mutable(let publicKey, let salt): return BEP44.mutableTarget(publicKey: publicKey, salt: salt)
        }
    }

    /// The item a `get` reply carries, when it is one this query asked for and
    /// checks out (BEP 44: requesters MUST verify hash or key and signature).
    func item(in response: KRPCResponse) -> DHTItem? {
        guard let value = response.value, value.count <= BEP44.maxValueLength else { return nil }
        switch self {
        case .immutable(let target):
            guard BEP44.immutableTarget(value: value) == target else { return nil }
            return .immutable(value: value)
        case .mutable(let publicKey, let salt):
            guard response.itemKey == publicKey, let sequence = response.itemSequence,
                  let signature = response.itemSignature else { return nil }
            let item = MutableItem(publicKey: publicKey, salt: salt, sequence: sequence, value: value, signature: signature)
            return item.hasValidSignature ? .mutable(item) : nil
        }
    }
}

/// BEP 44 `get` toward an item's target. Every valid item found is reported
/// (`.item` events): an immutable one once, a mutable one each time a higher
/// sequence number turns up, so the last event is the newest version seen.
/// Answers that fail the hash or signature check are dropped silently.
struct GetItemTraversal: LookupTraversal {
    var state: LookupState
    let itemQuery: ItemQuery
    /// The best item so far (the highest sequence number for mutable ones).
    private(set) var best: DHTItem?
    private var copies = 0

    init(operation: DHTOperation, family: IPAddress.Family, query: ItemQuery, lookup: Lookup, known: DHTItem?,
         now: DHTInstant) {
        state = LookupState(operation: operation, family: family, lookup: lookup, now: now)
        self.itemQuery = query
        self.best = known
    }

    func query(ownID: NodeID, target: NodeID, want: WantedFamilies) -> KRPCQuery {
        .get(id: ownID, target: target, sequence: nil, want: want)
    }

    mutating func handleResponse(_ response: KRPCResponse, from address: NodeAddress, tier: TrustTier,
                                 ownID: NodeID, events: inout [DHTEvent]) {
        absorb(response, from: address, tier: tier, ownID: ownID)
        guard let item = itemQuery.item(in: response) else { return }
        copies += 1
        if Self.isNewer(item, than: best) {
            best = item
            events.append(.item(operation, ItemReply(item: item, from: NodeContact(id: response.id, address: address))))
        }
    }

    static func isNewer(_ item: DHTItem, than current: DHTItem?) -> Bool {
        guard let current else { return true }
        if case .mutable(let new) = item, case .mutable(let old) = current { return new.sequence > old.sequence }
        return false
    }

    func summary(now: DHTInstant) -> TraversalSummary {
        var summary = baseSummary(kind: .get, now: now)
        summary.itemsFound = copies
        return summary
    }
}
