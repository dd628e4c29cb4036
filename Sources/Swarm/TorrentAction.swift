import Identity
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
    /// A piece decoded from symbols, whose hash the decode job has already
    /// checked: write it (no second hash), report with `pieceStored`.
    case write(PieceBuffer)
    /// bf_fountain: encode these symbols of a verified piece and send them to
    /// the peer under its extension ID; report each with `uploadedSymbol`.
    case serveSymbols(PeerRecord.Key, SymbolServe)
    /// The symbols of this piece still owed to the peer are no longer wanted (it
    /// has the piece, or we choked it): drop those not yet sent.
    case cancelSymbols(PeerRecord.Key, piece: Int)
    /// Enough symbols of a piece are in: run the job off the event loop, then
    /// hand it back with `symbolsDecoded`.
    case decode(SymbolDecodeJob)
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
    /// An incoming peer told us where it listens (BEP 10 `p`): that address is
    /// connected now, so PEX or the DHT naming it must not start a second connection.
    case peerListens(PeerRecord.Key, at: PeerAddress)
    /// BEP 11: a peer told us of these (new, not us, within bounds): candidates to dial.
    case peersDiscovered([UTPex.AddedPeer])
    /// BEP 55: a relay introduced us to this peer, which is dialling us now:
    /// dial it over uTP at once (a simultaneous open through both NATs).
    case holepunchDial(PeerAddress)
}

/// Symbols a peer asked us for over bf_fountain.
public struct SymbolServe: Sendable, Equatable {
    public let piece: Int
    public let esis: [UInt32]
    /// The peer's ID for bf_fountain messages.
    public let extensionID: UInt8

    public init(piece: Int, esis: [UInt32], extensionID: UInt8) {
        self.piece = piece
        self.esis = esis
        self.extensionID = extensionID
    }
}

/// How a piece handed over with `.store` fared.
public enum StoreResult: Sendable, Equatable {
    case written
    case hashMismatch
    case writeFailed(String)
}
