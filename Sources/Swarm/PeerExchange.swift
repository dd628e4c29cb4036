import Identity
import PeerWire

/// BEP 11 peer exchange for one torrent, as a sub-machine of `TorrentMachine`:
/// it owns the PEX state of every peer that speaks `ut_pex` and answers
/// events (a peer ready, gone, a message, a tick) with messages to send and
/// addresses learned. Sans-I/O like its owner.
///
/// Sending: the first message lists the swarm as it is; later ones what
/// changed since the last (added / dropped), at most one a minute per peer
/// and `maxAddedPerMessage` added entries each (the rest wait for the next).
/// Receiving: messages closer than `minReceiveGap` to the previous are
/// ignored, as are our own address and entries past `maxLearned` addresses.
struct PeerExchange: Sendable {
    typealias PeerKey = PeerRecord.Key

    static let sendInterval: Double = 60
    static let maxAddedPerMessage = 50
    static let maxDroppedPerMessage = 50
    /// A peer's messages closer together than this are ignored (BEP 11: at most one a minute; timers jitter).
    static let minReceiveGap: Double = 45
    /// Most addresses learned from PEX over the torrent's life; the rest are ignored.
    static let maxLearned = 1000

    struct PeerState: Sendable {
        /// Its ID for ut_pex messages, from its extension handshake.
        let remoteID: UInt8
        /// What it has been told is in the swarm.
        var advertised: [PeerAddress: UTPex.Flags] = [:]
        var lastSent: Double?
        var lastReceived: Double?
    }

    private(set) var states: [PeerKey: PeerState] = [:]
    private(set) var learned: Set<PeerAddress> = []

    /// Its extension handshake offers ut_pex under `remoteID`.
    mutating func peerReady(_ key: PeerKey, remoteID: UInt8) {
        guard states[key]?.remoteID != remoteID else { return }
        states[key] = PeerState(remoteID: remoteID)
    }

    mutating func peerGone(_ key: PeerKey) {
        states.removeValue(forKey: key)
    }

    /// The messages due at `now`: to each PEX peer whose minute has passed,
    /// the change from what it was told to `swarm` (every connected peer
    /// with a known listen address, and its flags), leaving itself out.
    mutating func messagesDue(now: Double, swarm: [PeerKey: UTPex.AddedPeer]) -> [(PeerKey, UInt8, UTPex.Message)] {
        var out: [(PeerKey, UInt8, UTPex.Message)] = []
        for key in states.keys.sorted() {
            var state = states[key]!
            if let last = state.lastSent, now - last < Self.sendInterval { continue }
            var current: [PeerAddress: UTPex.Flags] = [:]
            for (other, peer) in swarm where other != key { current[peer.address] = peer.flags }
            var message = UTPex.Message()
            // Addresses first in a stable order, so what does not fit goes out next time.
            for address in current.keys.sorted(by: { $0.description < $1.description })
            where state.advertised[address] != current[address] {
                guard message.added.count < Self.maxAddedPerMessage else { break }
                message.added.append(UTPex.AddedPeer(address, flags: current[address]!))
                state.advertised[address] = current[address]
            }
            for address in state.advertised.keys.sorted(by: { $0.description < $1.description }) where current[address] == nil {
                guard message.dropped.count < Self.maxDroppedPerMessage else { break }
                message.dropped.append(address)
                state.advertised.removeValue(forKey: address)
            }
            // Nothing to say: no message, and the minute is not spent.
            guard !message.isEmpty else { continue }
            state.lastSent = now
            states[key] = state
            out.append((key, state.remoteID, message))
        }
        return out
    }

    /// A message from `key`: the new addresses worth dialling (not ourselves,
    /// not already learned, within the bounds). `dropped` is not acted on: a
    /// peer that left its swarm may still be in ours, and dial failures age
    /// dead addresses out of the address book anyway.
    mutating func received(_ message: UTPex.Message, from key: PeerKey, now: Double,
                           isOwnAddress: (PeerAddress) -> Bool) -> [UTPex.AddedPeer] {
        guard var state = states[key] else { return [] }
        if let last = state.lastReceived, now - last < Self.minReceiveGap { return [] }
        state.lastReceived = now
        states[key] = state
        var fresh: [UTPex.AddedPeer] = []
        for peer in message.added.prefix(UTPex.maxEntriesPerList) {
            guard learned.count < Self.maxLearned else { break }
            guard peer.address.port != 0, !peer.address.ip.isUnroutable, !isOwnAddress(peer.address),
                  learned.insert(peer.address).inserted else { continue }
            fresh.append(peer)
        }
        return fresh
    }
}
