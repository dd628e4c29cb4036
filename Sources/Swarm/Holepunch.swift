import Identity
import PeerWire

/// BEP 55 holepunching for one torrent, as a sub-machine of the torrent
/// machine (like `PeerExchange`): it owns what each connected peer said of
/// `ut_holepunch` and answers events with messages to send and addresses to
/// dial simultaneously. Sans-I/O: `now` is passed in.
///
/// Relay side: a `rendezvous` from A naming B, when both are connected to us
/// and speak holepunch, becomes a `connect` to each naming the other (B by
/// the address A asked for, A by the address it listens on); otherwise an
/// `error` goes back to A.
/// Initiator side: for a peer we learned of (PEX) and could not reach, a
/// `rendezvous` goes to a relay, preferably the peer that told us of it.
/// Either side: a `connect` from a relay is a request to dial that address now.
///
/// Every piece of state is bounded: relayed rendezvous and dials obeyed are
/// limited per peer and per window (a relay cannot make us a flood source,
/// and a peer cannot make us one either), pending introductions and the
/// record of who told us of whom are capped.
struct Holepunch: Sendable {
    typealias PeerKey = PeerRecord.Key

    /// Rendezvous we relay for one initiator per window; the rest are dropped unanswered.
    static let maxRelayedPerWindow = 5
    /// `connect`s we obey per window, from all relays together.
    static let maxDialsPerWindow = 10
    static let window: Double = 60
    /// Introductions we wait on at once, and how long before one is given up.
    static let maxPending = 32
    static let pendingTimeout: Double = 30
    /// A target is not asked for again sooner than this.
    static let retryInterval: Double = 300
    /// Addresses whose source (the peer that told us of them) is remembered.
    static let maxSources = 1000

    enum Output: Equatable, Sendable {
        case send(PeerKey, remoteID: UInt8, UTHolepunch.Message)
        /// Dial this address now (a simultaneous open: the other side dials us at the same time).
        case dial(PeerAddress)
        /// A relay could not introduce us to the target.
        case failed(PeerAddress, UTHolepunch.ErrorCode)
    }

    struct PeerState: Sendable {
        /// Its ID for ut_holepunch messages, from its extension handshake.
        let remoteID: UInt8
        /// Where it listens, as others reach it (its IP as we see it, its listen port).
        var address: PeerAddress?
        var relayedInWindow = 0
        var windowStart: Double = -.infinity
    }

    private(set) var states: [PeerKey: PeerState] = [:]
    /// Connected peers without holepunch, by address: told apart from unknown ones (`noSupport`).
    private(set) var others: [PeerAddress: PeerKey] = [:]
    private(set) var pending: [PeerAddress: Double] = [:]
    private(set) var lastAsked: [PeerAddress: Double] = [:]
    private(set) var sources: [PeerAddress: PeerKey] = [:]
    private var dialsInWindow = 0
    private var dialWindowStart: Double = -.infinity

    /// A peer is connected and its handshake is in: `remoteID` when it speaks ut_holepunch.
    mutating func peerReady(_ key: PeerKey, address: PeerAddress?, remoteID: UInt8?) {
        if let remoteID {
            var state = states[key] ?? PeerState(remoteID: remoteID)
            if state.remoteID != remoteID { state = PeerState(remoteID: remoteID) }
            state.address = address
            states[key] = state
        } else if let address {
            others[address] = key
        }
    }

    mutating func peerGone(_ key: PeerKey) {
        states.removeValue(forKey: key)
        others = others.filter { $0.value != key }
        sources = sources.filter { $0.value != key }
    }

    /// PEX told us of `addresses` through `key`: that peer is the relay to ask for them.
    mutating func learned(_ addresses: [PeerAddress], from key: PeerKey) {
        for address in addresses where sources[address] == nil {
            guard sources.count < Self.maxSources else { break }
            sources[address] = key
        }
    }

    /// We could not reach `target`: ask a relay to introduce us, if one
    /// speaks holepunch, it was not asked for lately, and there is room.
    mutating func unreachable(_ target: PeerAddress, now: Double) -> [Output] {
        expire(now: now)
        guard pending[target] == nil, pending.count < Self.maxPending else { return [] }
        if let last = lastAsked[target], now - last < Self.retryInterval { return [] }
        let relay: (key: PeerKey, state: PeerState)? = {
            if let source = sources[target], let state = states[source] { return (source, state) }
            // Any holepunch peer, in a stable order; not the target itself.
            return states.sorted { $0.key < $1.key }.first { $0.value.address != target }.map { ($0.key, $0.value) }
        }()
        guard let relay else { return [] }
        pending[target] = now
        lastAsked[target] = now
        if lastAsked.count > Self.maxSources { lastAsked = lastAsked.filter { now - $0.value < Self.retryInterval } }
        return [.send(relay.key, remoteID: relay.state.remoteID, .rendezvous(target))]
    }

    /// A ut_holepunch message from `key`. `isOwnAddress` tells our own
    /// listen addresses; `isConnected` whether we already talk to an address.
    mutating func received(_ message: UTHolepunch.Message, from key: PeerKey, now: Double,
                           isOwnAddress: (PeerAddress) -> Bool, isConnected: (PeerAddress) -> Bool) -> [Output] {
        guard var initiator = states[key] else { return [] }
        switch message {
        case .rendezvous(let target):
            if now - initiator.windowStart >= Self.window {
                initiator.windowStart = now
                initiator.relayedInWindow = 0
            }
            guard initiator.relayedInWindow < Self.maxRelayedPerWindow else { return [] }
            initiator.relayedInWindow += 1
            states[key] = initiator
            return relay(to: target, for: key, initiator: initiator, isOwnAddress: isOwnAddress)
        case .connect(let peer):
            pending.removeValue(forKey: peer)
            guard !isOwnAddress(peer), !isConnected(peer), !peer.ip.isUnroutable else { return [] }
            if now - dialWindowStart >= Self.window {
                dialWindowStart = now
                dialsInWindow = 0
            }
            guard dialsInWindow < Self.maxDialsPerWindow else { return [] }
            dialsInWindow += 1
            return [.dial(peer)]
        case .error(let target, let code):
            // Only an answer to a request of ours is news.
            guard pending.removeValue(forKey: target) != nil else { return [] }
            return [.failed(target, code)]
        }
    }

    private func relay(to target: PeerAddress, for initiatorKey: PeerKey, initiator: PeerState,
                       isOwnAddress: (PeerAddress) -> Bool) -> [Output] {
        func error(_ code: UTHolepunch.ErrorCode) -> [Output] {
            [.send(initiatorKey, remoteID: initiator.remoteID, .error(target, code))]
        }
        if isOwnAddress(target) { return error(.noSelf) }
        // The initiator must be introducible: without its listen address the target could not dial it.
        guard let initiatorAddress = initiator.address, initiatorAddress.ip.family == target.ip.family,
              initiatorAddress != target else { return error(.noSuchPeer) }
        if let targetKey = states.first(where: { $0.value.address == target })?.key, let targetState = states[targetKey] {
            return [.send(initiatorKey, remoteID: initiator.remoteID, .connect(target)),
                    .send(targetKey, remoteID: targetState.remoteID, .connect(initiatorAddress))]
        }
        return error(others[target] != nil ? .noSupport : .notConnected)
    }

    /// Gives up introductions that were never answered.
    private mutating func expire(now: Double) {
        pending = pending.filter { now - $0.value < Self.pendingTimeout }
    }
}
