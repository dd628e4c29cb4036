import Metainfo
import NIOCore
import PeerWire
import Swarm

/// What a `Session` reads of a running torrent, each read one hop to the event loop.
extension TorrentSession {
    /// The engine's numbers now; nil once the loop is gone.
    func stats() async -> TorrentStats? {
        try? await loop.submit { self.makeSnapshot() }.get()
    }

    /// The info dictionary, once known.
    func info() async -> TorrentInfo? {
        try? await loop.submit { self.machine.info }.get()
    }

    /// The verified pieces (nil before the metadata).
    func have() async -> Bitfield? {
        try? await loop.submit { self.machine.have }.get()
    }

    /// The connected peers, for `Session.peers`.
    func peerSnapshots() async -> [PeerSnapshot] {
        (try? await loop.submit { self.makePeerSnapshots() }.get()) ?? []
    }

    private func makePeerSnapshots() -> [PeerSnapshot] {
        let pieceCount = machine.info?.pieceCount ?? 0
        return connections.values.compactMap { connection -> PeerSnapshot? in
            guard let record = machine.peers[connection.key] else { return nil }
            let progress: Double
            if record.isSeed { progress = 1 } else if let pieces = record.pieces, pieceCount > 0 {
                progress = Double(pieces.setCount) / Double(pieceCount)
            } else { progress = 0 }
            // The extension handshake's `v` names the client; else the peer ID's tag (`-LT2080-`).
            let client = record.extensions?.client.flatMap { $0.isEmpty ? nil : $0 } ?? record.peerID.description
            // The MSE handler stays in the pipeline only when RC4 was chosen (it leaves after a plaintext MSE handshake).
            let encrypted = (try? connection.channel.pipeline.syncOperations.handler(type: MSEChannelHandler.self)) != nil
            return PeerSnapshot(address: connection.address.description, client: client,
                                downloadRate: record.download.bytesPerSecond, uploadRate: record.upload.bytesPerSecond,
                                downloaded: record.download.total, uploaded: record.upload.total,
                                progress: progress, isSeed: record.isSeed, encrypted: encrypted,
                                incoming: !connection.outgoing, speaksFountain: machine.fountainEnabled && record.extensions?.id(of: BFFountain.extensionName) != nil,
                                transport: .tcp, choked: record.peerChoking, interested: record.amInterested)
        }.sorted { $0.address < $1.address }
    }
}
