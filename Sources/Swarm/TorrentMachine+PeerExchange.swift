import Identity
import NIOCore
import PeerWire

/// Wiring of the PEX sub-machine (PeerExchange.swift) into the torrent machine.
extension TorrentMachine {
    /// Its BEP 10 handshake: where an incoming peer listens (`p`), and whether it speaks ut_pex.
    mutating func extensionHandshakeArrived(from key: PeerKey) {
        guard let peer = peers[key], let extensions = peer.extensions else { return }
        if peer.listenAddress == nil, let ip = peer.remoteIP, let port = extensions.listenPort, port != 0 {
            let address = PeerAddress(ip: ip, port: port)
            peers[key]!.listenAddress = address
            actions.append(.peerListens(key, at: address))
        }
        if let remoteID = extensions.id(of: UTPex.extensionName) { pex?.peerReady(key, remoteID: remoteID) }
    }

    mutating func receivedPexMessage(_ payload: ByteBuffer, from key: PeerKey, now: Double) {
        // A malformed message is dropped, not fatal: it costs us nothing, as libtorrent treats bad lengths.
        guard pex != nil, let message = try? UTPex.decode(payload) else { return }
        let fresh = pex!.received(message, from: key, now: now, isOwnAddress: isOwnAddress)
        // Who told us of a peer is the relay to ask if we cannot reach it (BEP 55).
        holepunch?.learned(fresh.map(\.address), from: key)
        if !fresh.isEmpty { actions.append(.peersDiscovered(fresh)) }
    }

    /// Our port on one of our own IPs.
    func isOwnAddress(_ address: PeerAddress) -> Bool {
        address.isOwnListener(port: listenPort, localIPs: localIPs)
    }

    /// Sends each PEX peer what changed in the swarm, when its minute is up.
    mutating func exchangePeers(now: Double) {
        guard pex != nil else { return }
        var swarm: [PeerKey: UTPex.AddedPeer] = [:]
        for (key, peer) in peers {
            guard let address = peer.listenAddress else { continue }
            swarm[key] = UTPex.AddedPeer(address, flags: pexFlags(of: peer))
        }
        for (key, remoteID, message) in pex!.messagesDue(now: now, swarm: swarm) {
            actions.append(.send(key, .extended(id: remoteID, payload: ByteBuffer(bytes: UTPex.encode(message)))))
        }
    }

    /// What we know of a peer, said honestly: a seed, reachable when we
    /// dialled it, uTP when our connection to it runs over uTP, holepunch when
    /// its extension handshake offers ut_holepunch. Its encryption preference
    /// is not known (a plaintext connection may be our own choice), so that
    /// bit stays clear.
    func pexFlags(of peer: PeerRecord) -> UTPex.Flags {
        var flags: UTPex.Flags = []
        if peer.isSeed { flags.insert(.seed) }
        if peer.outgoing { flags.insert(.reachable) }
        if peer.overUTP { flags.insert(.supportsUTP) }
        if peer.extensions?.id(of: UTHolepunch.extensionName) != nil { flags.insert(.supportsHolepunch) }
        return flags
    }
}
