import Metainfo
import PeerWire

/// What the torrent state machine asks its adapter to do.
public enum TorrentAction: Sendable {
    /// Send a message to a peer.
    case send(PeerRecord.Key, PeerMessage)
    /// Read this block from storage and send it as a `piece` message; report with `uploaded`.
    case serve(PeerRecord.Key, BlockRequest)
    /// The peer cancelled (or we choked it): drop the block if it is not yet sent.
    case cancelServe(PeerRecord.Key, BlockRequest)
    /// All blocks are in: hash the piece, write it if it matches, report with `pieceStored`.
    case store(PieceBuffer)
    case disconnect(PeerRecord.Key, reason: String)
    /// Disconnect and refuse this peer from now on.
    case ban(PeerRecord.Key, address: String, peerID: PeerID, reason: String)
    /// The info dictionary arrived and verified (magnet downloads): set up storage.
    case metadataReceived(TorrentInfo)
    /// The torrent cannot be downloaded at all (e.g. its metadata is unsafe).
    case fail(reason: String)
    case pieceVerified(Int)
    /// Every piece is verified on disk.
    case completed
    /// BEP 5 `port`: the peer runs a DHT node on this UDP port.
    case dhtPort(PeerRecord.Key, UInt16)
}

/// How a piece handed over with `.store` fared.
public enum StoreResult: Sendable, Equatable {
    case written
    case hashMismatch
    case writeFailed(String)
}
