import Bencode
import Identity

/// BEP 44: answering `get` and `put`, and starting get/put traversals.
///
/// Decisions beyond the BEP, and why:
/// - **Tokens** are the announce_peer tokens (tied to the IP, 5–10 minutes):
///   one mechanism, one secret rotation.
/// - **Checks in this order**, each refused with its own code and nothing
///   stored: token (203), `v` not strict bencode (203), `v` over 1,000 bytes
///   (205), salt over 64 bytes (207), bad key/signature (206), then the
///   store's ordering rules: `cas` mismatch (301), stale `seq` (302).
/// - **Publisher signatures are always real ed25519**, whatever the node
///   authenticator is: items are signed by publishers' keys, which are never
///   simulated.
/// - **Reply size.** A `get` reply carries the item whole even to a querier
///   that has not proven its address (else no stock node could read an item
///   from us on first contact); the nodes and token share what is left. The
///   per-IP query rate limit bounds what a spoofer gains.
extension DHTCore {
    public var storedItems: Int { itemStore.count }

    /// The item we store under `target`, if any.
    public func storedItem(at target: NodeID, now: DHTInstant) -> DHTItem? { itemStore.item(at: target, now: now) }

    /// Looks up an item (BEP 44 `get`); `.item` events report each valid,
    /// newer copy found, starting with ours when we store it.
    @discardableResult
    public mutating func getItem(_ query: ItemQuery, family: IPAddress.Family, now: DHTInstant) -> DHTOperation {
        let operation = makeOperation()
        let local = itemStore.item(at: query.target, now: now)
        if let local {
            events.append(.item(operation, ItemReply(item: local, from: NodeContact(id: nodeID(for: family),
                                                                                     address: NodeAddress(ip: .v4(0x7F00_0001), port: 0)))))
        }
        let traversal = GetItemTraversal(operation: operation, family: family, query: query,
                                         lookup: makeLookup(target: query.target, family: family, now: now), known: local,
                                         now: now)
        start(traversal, now: now)
        return operation
    }

    /// Stores an item on the K closest nodes to its target (BEP 44 `put`);
    /// the summary's `storedTo` counts the nodes that took it. A mutable item
    /// must already be signed (a follower re-puts the signed item it got).
    @discardableResult
    public mutating func putItem(_ item: DHTItem, cas: Int64? = nil, family: IPAddress.Family, now: DHTInstant) -> DHTOperation {
        let operation = makeOperation()
        let traversal = PutItemTraversal(operation: operation, family: family, item: item, cas: cas,
                                         lookup: makeLookup(target: item.target, family: family, now: now), now: now)
        start(traversal, now: now)
        return operation
    }

    // MARK: Answering

    /// A `get` reply's item fields: the whole item, or (mutable, not newer
    /// than the querier's `seq`) only the sequence number, as BEP 44 asks.
    mutating func attachItem(to response: inout KRPCResponse, target: NodeID, newerThan sequence: Int64?,
                             plan: inout ReplyPlan, now: DHTInstant) {
        guard let item = itemStore.item(at: target, now: now) else { return }
        switch item {
        case .immutable(let value):
            response.value = value
            plan.carry(value.count + 4)
        case .mutable(let mutable):
            response.itemSequence = mutable.sequence
            if let sequence, mutable.sequence <= sequence {
                plan.carry(26)
                return
            }
            response.value = mutable.value
            response.itemKey = mutable.publicKey
            response.itemSignature = mutable.signature
            plan.carry(mutable.value.count + 4 + 26 + 36 + 70)
        }
    }

    /// Checks and stores a `put`; the error to send back when refused.
    mutating func acceptPut(_ request: PutRequest, from source: NodeAddress, now: DHTInstant) -> KRPCError? {
        let error = checkPut(request, from: source, now: now)
        if error == nil { statistics.itemsPutToUs += 1 } else { statistics.putsRefused += 1 }
        return error
    }

    private mutating func checkPut(_ request: PutRequest, from source: NodeAddress, now: DHTInstant) -> KRPCError? {
        guard tokens.isValid(request.token, for: source.ip) else {
            return KRPCError(code: KRPCError.protocolError, message: "bad token")
        }
        guard request.value.count <= BEP44.maxValueLength else {
            return KRPCError(code: KRPCError.valueTooBig, message: "v is larger than \(BEP44.maxValueLength) bytes")
        }
        guard (try? BencodeDecoder(limits: BencodeLimits(maxDepth: 16)).decode(request.value)) != nil else {
            return KRPCError(code: KRPCError.protocolError, message: "v is not valid bencode")
        }
        guard request.salt.count <= BEP44.maxSaltLength else {
            return KRPCError(code: KRPCError.saltTooBig, message: "salt is larger than \(BEP44.maxSaltLength) bytes")
        }
        let item = request.item
        if case .mutable(let mutable) = item, !mutable.hasValidSignature {
            return KRPCError(code: KRPCError.invalidSignature, message: "invalid signature")
        }
        if case .mutable(let mutable) = item, mutable.sequence < 0 {
            return KRPCError(code: KRPCError.protocolError, message: "negative seq")
        }
        return itemStore.store(item, target: item.target, cas: request.cas, now: now)
    }
}

extension ReplyPlan {
    /// Room for an item that must go out whole: the budget grows when the
    /// item does not fit, up to what a KRPC packet may be.
    mutating func carry(_ bytes: Int) {
        if bytes > remaining {
            let grow = min(bytes - remaining, KRPCDecoder.maxPacketSize - budget)
            budget += max(0, grow)
            reserve(-max(0, grow))
        }
        reserve(bytes)
    }
}
