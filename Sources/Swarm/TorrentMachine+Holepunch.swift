import Identity
import NIOCore
import PeerWire

/// Wiring of the holepunch sub-machine (Holepunch.swift) into the torrent
/// machine: who speaks ut_holepunch, its messages in, its messages and dials out.
extension TorrentMachine {
    /// Its BEP 10 handshake is in: the sub-machine learns whether it speaks
    /// ut_holepunch and where it listens (the address a relay introduces it by).
    mutating func holepunchPeerReady(_ key: PeerKey) {
        guard holepunch != nil, let peer = peers[key] else { return }
        holepunch!.peerReady(key, address: peer.listenAddress, remoteID: peer.extensions?.id(of: UTHolepunch.extensionName))
    }

    mutating func receivedHolepunchMessage(_ payload: ByteBuffer, from key: PeerKey, now: Double) {
        // Malformed: dropped, as libtorrent ignores invalid holepunch messages.
        guard holepunch != nil, let message = try? UTHolepunch.decode(payload) else { return }
        let connected = Set(peers.values.compactMap(\.listenAddress))
        let outputs = holepunch!.received(message, from: key, now: now, isOwnAddress: isOwnAddress,
                                          isConnected: { connected.contains($0) })
        perform(outputs)
    }

    /// A dial to `address` failed (uTP and TCP): ask a relay to introduce us.
    public mutating func dialFailed(_ address: PeerAddress, now: Double) {
        guard holepunch != nil, !peers.values.contains(where: { $0.listenAddress == address }) else { return }
        perform(holepunch!.unreachable(address, now: now))
    }

    private mutating func perform(_ outputs: [Holepunch.Output]) {
        for output in outputs {
            switch output {
            case .send(let key, let remoteID, let message):
                actions.append(.send(key, .extended(id: remoteID, payload: ByteBuffer(bytes: UTHolepunch.encode(message)))))
            case .dial(let address):
                actions.append(.holepunchDial(address))
            case .failed:
                // The relay could not introduce us: the address book's backoff decides when it is tried again.
                break
            }
        }
    }
}
