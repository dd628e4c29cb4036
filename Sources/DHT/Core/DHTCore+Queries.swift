import Identity

/// Answering other nodes' queries.
///
/// Replies are signed only when the query was (it carried `k`): a stock node
/// has no use for our signature, and leaving it out keeps replies ~110 bytes
/// smaller and saves an ed25519 signature per query. Replies to a source that
/// has not proven its address (by answering one of our queries) are trimmed
/// to `unprovenReplyBudget` bytes, so a spoofed query cannot be turned into a
/// large packet aimed at someone else.
extension DHTCore {
    mutating func answer(_ query: KRPCQuery, message: KRPCMessage, from source: NodeAddress, now: DHTInstant) {
        let family = source.family
        let ownID = nodeID(for: family)
        var response = KRPCResponse(id: ownID)
        var plan = ReplyPlan(budget: replyBudget(for: source), signed: message.authentication != nil,
                             transactionID: message.transactionID)

        switch query {
        case .ping:
            break
        case .findNode(_, let target, let want), .unknown(_, _, .some(let target), let want):
            addNodes(to: &response, near: target, want: want, querier: family, plan: &plan, now: now)
        case .getPeers(_, let infoHash, let want):
            response.token = tokens.token(for: source.ip)
            plan.reserve(9 + TokenIssuer.tokenLength)
            let perPeer = NodeAddress.compactLength(family) + 3
            let room = max(0, (plan.remaining - 10) / perPeer)
            response.values = peerStore.peers(for: infoHash, family: family, limit: min(room, 50), now: now, using: &random)
            if !response.values.isEmpty { plan.reserve(10 + response.values.count * perPeer) }
            addNodes(to: &response, near: infoHash, want: want, querier: family, plan: &plan, now: now)
        case .announcePeer(_, let infoHash, let port, let token):
            guard tokens.isValid(token, for: source.ip) else {
                sendError(KRPCError(code: KRPCError.protocolError, message: "bad token"), transactionID: message.transactionID,
                          to: source)
                return
            }
            peerStore.add(NodeAddress(ip: source.ip, port: port ?? source.port), for: infoHash, now: now)
            statistics.peersAnnouncedToUs += 1
        case .sampleInfohashes(_, let target, let want):
            response.interval = configuration.sampleInterval
            response.num = Int64(peerStore.infoHashCount)
            plan.reserve(40)
            addNodes(to: &response, near: target, want: want, querier: family, plan: &plan, now: now)
            let room = max(0, (plan.remaining - 14) / 20)
            response.samples = peerStore.sample(limit: min(room, 40), using: &random)
        case .get(_, let target, let sequence, let want):
            response.token = tokens.token(for: source.ip)
            plan.reserve(9 + TokenIssuer.tokenLength)
            attachItem(to: &response, target: target, newerThan: sequence, plan: &plan, now: now)
            addNodes(to: &response, near: target, want: want, querier: family, plan: &plan, now: now)
        case .put(_, let request):
            if let error = acceptPut(request, from: source, now: now) {
                sendError(error, transactionID: message.transactionID, to: source)
                return
            }
        case .unknown(_, _, .none, _):
            sendError(KRPCError(code: KRPCError.methodUnknown, message: "method unknown"), transactionID: message.transactionID,
                      to: source)
            return
        }
        sendResponse(&response, plan: plan, to: source)
        if !message.readOnly {
            noticeQuerier(NodeContact(id: query.senderID, address: source), signed: message.authentication != nil, now: now)
        }
    }

    /// How many bytes a reply to `source` may take.
    private func replyBudget(for source: NodeAddress) -> Int {
        let proven = tables[source.family]?.entry(at: source)?.lastResponse != nil
        return proven ? configuration.maxPacketSize : min(configuration.unprovenReplyBudget, configuration.maxPacketSize)
    }

    /// BEP 5 `nodes` / BEP 32 `nodes6`: the closest nodes we know, for the
    /// families asked for (the querier's own by default), as many as fit.
    private mutating func addNodes(to response: inout KRPCResponse, near target: NodeID, want: WantedFamilies,
                                   querier: IPAddress.Family, plan: inout ReplyPlan, now: DHTInstant) {
        let families: [IPAddress.Family] = want.isEmpty ? [querier]
            : [querier, querier == .v4 ? .v6 : .v4].filter { want.includes($0) }
        for family in families {
            guard let table = tables[family] else { continue }
            let size = NodeContact.compactLength(family)
            let room = max(0, (plan.remaining - 12) / size)
            let contacts = table.closest(to: target, count: min(configuration.k, room), now: now)
            guard !contacts.isEmpty else { continue }
            plan.reserve(12 + contacts.count * size)
            if family == .v4 { response.nodes = contacts } else { response.nodes6 = contacts }
        }
    }

    private mutating func sendResponse(_ response: inout KRPCResponse, plan: ReplyPlan, to destination: NodeAddress) {
        let signer: (any NodeAuthenticator)? = plan.signed ? authenticator : nil
        writer.writeResponse(response, transactionID: plan.transactionID, requester: destination, signer: signer)
        // The estimate is conservative; this loop only runs for odd inputs (a long `t`).
        while writer.buffer.count > plan.budget {
            if !response.values.isEmpty { response.values.removeLast() }
            else if !response.samples.isEmpty { response.samples.removeLast() }
            else if !response.nodes6.isEmpty { response.nodes6.removeLast() }
            else if !response.nodes.isEmpty { response.nodes.removeLast() }
            else { return }
            writer.writeResponse(response, transactionID: plan.transactionID, requester: destination, signer: signer)
        }
        outgoing.append(OutgoingDatagram(bytes: writer.buffer, destination: destination))
        statistics.responsesSent += 1
    }

    mutating func sendError(_ error: KRPCError, transactionID: ShortBytes, to destination: NodeAddress) {
        writer.writeError(error, transactionID: transactionID)
        outgoing.append(OutgoingDatagram(bytes: writer.buffer, destination: destination))
        statistics.errorsSent += 1
    }

    /// A node that queries us may be worth keeping. We do not take its word
    /// (its source address may be spoofed, its signature is not checked on
    /// queries): if the table has room for it, we ping it, and its answer,
    /// verified like any response, is what lets it in.
    private mutating func noticeQuerier(_ contact: NodeContact, signed: Bool, now: DHTInstant) {
        guard var table = tables[contact.address.family], contact.id != table.ownID else { return }
        if table.contains(contact.address) {
            table.nodeQueried(contact, now: now)
            tables[contact.address.family] = table
            return
        }
        guard querierPingBudget > 0, table.wouldAccept(contact.id, likelyVerified: signed, now: now) else { return }
        querierPingBudget -= 1
        maintenancePing(contact.address, now: now)
    }
}

/// Space accounting for one reply: the fixed part is estimated up front
/// (generously), each list then takes what is left.
struct ReplyPlan {
    var budget: Int
    let signed: Bool
    let transactionID: ShortBytes
    private(set) var remaining: Int

    init(budget: Int, signed: Bool, transactionID: ShortBytes) {
        self.budget = budget
        self.signed = signed
        self.transactionID = transactionID
        // d, ip (18-byte worst case), r{id}, t, v, y, e: ~80 bytes plus t; k and sig add 109.
        remaining = budget - 80 - transactionID.count - (signed ? 109 : 0)
    }

    mutating func reserve(_ bytes: Int) { remaining -= bytes }
}
