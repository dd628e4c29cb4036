import Metainfo
import PeerWire

/// BEP 9 metadata download while the info dictionary is missing (magnet
/// links), as a sub-machine of `TorrentMachine`: it owns the assembler and
/// every peer's metadata requests, and answers events (a peer can be asked, a
/// piece or a reject arrived, a peer left) with the pieces to ask for or the
/// assembler's outcome. The machine sends the messages and acts on the
/// outcome (adopt the info, ban the senders of a bad one). Sans-I/O.
///
/// Each piece is asked of one peer at a time, at most `requestsPerPeer` per
/// peer. A peer that rejects a request or lets one expire (`timeout`) is not
/// asked again. If no peer left advertises the size being assembled (one lied
/// about it), the assembly starts over at the next peer's size.
struct MetadataExchange: Sendable {
    typealias PeerKey = PeerRecord.Key

    let infoHash: InfoHash
    let requestsPerPeer: Int
    let timeout: Double
    private(set) var assembler: MetadataAssembler?
    /// Pieces asked of each peer, and when.
    private(set) var requests: [PeerKey: [Int: Double]] = [:]
    /// Peers that rejected a request or let one expire.
    private(set) var exhausted: Set<PeerKey> = []

    init(infoHash: InfoHash, requestsPerPeer: Int, timeout: Double) {
        self.infoHash = infoHash
        self.requestsPerPeer = requestsPerPeer
        self.timeout = timeout
    }

    /// Whether this peer can still be asked, given the size it advertised (for "useful peer" counts).
    func mayServe(_ key: PeerKey, advertisedSize: Int?) -> Bool {
        !exhausted.contains(key) && advertisedSize != nil
    }

    /// The pieces to ask `key` for now (it speaks ut_metadata and advertised
    /// `advertisedSize`); `advertised` is every connected peer's advertised
    /// size. Throws when the size is one no assembler accepts.
    mutating func piecesToRequest(from key: PeerKey, advertisedSize: Int?, advertised: [PeerKey: Int?],
                                  now: Double) throws(PeerWireError) -> [Int] {
        guard !exhausted.contains(key) else { return [] }
        // A peer that lets a request expire is not asked again; its pieces go to whoever asks next.
        for (piece, sentAt) in requests[key] ?? [:] where now - sentAt > timeout {
            requests[key]!.removeValue(forKey: piece)
            exhausted.insert(key)
        }
        guard !exhausted.contains(key) else { return [] }
        if let assembler, !advertised.contains(where: { !exhausted.contains($0.key) && $0.value == assembler.size }) {
            self.assembler = nil
        }
        if assembler == nil {
            guard let advertisedSize else { return [] }
            assembler = try MetadataAssembler(infoHash: infoHash, size: advertisedSize)
        }
        guard let assembler, advertisedSize == assembler.size else { return [] }
        let inFlight = Set(requests.values.flatMap(\.keys))
        var asked: [Int] = []
        for piece in assembler.missingPieces where !inFlight.contains(piece) {
            guard (requests[key]?.count ?? 0) < requestsPerPeer else { break }
            requests[key, default: [:]][piece] = now
            asked.append(piece)
        }
        return asked
    }

    /// It refused a piece: it is not asked again.
    mutating func rejected(_ piece: Int, by key: PeerKey) {
        requests[key]?.removeValue(forKey: piece)
        exhausted.insert(key)
    }

    /// A piece arrived. Nil when it was not asked of this peer (or no assembly
    /// is under way): ignored. Throws on a malformed piece.
    mutating func received(_ piece: Int, totalSize: Int, payload: [UInt8],
                           from key: PeerKey) throws(PeerWireError) -> MetadataAssembler.Outcome? {
        guard requests[key]?.removeValue(forKey: piece) != nil, assembler != nil else { return nil }
        let outcome = try assembler!.add(piece: piece, totalSize: totalSize, payload: payload, from: key)
        switch outcome {
        case .incomplete: break
        case .complete: finish()
        case .rejected: assembler = nil
        }
        return outcome
    }

    mutating func peerGone(_ key: PeerKey) {
        requests.removeValue(forKey: key)
        exhausted.remove(key)
    }

    /// The metadata is known: nothing more to ask of anyone.
    mutating func finish() {
        assembler = nil
        requests.removeAll()
    }

    /// Our answer to a peer's request for piece `piece` of `raw` (nil: we lack the metadata).
    static func reply(to piece: Int, of raw: [UInt8]?) -> UTMetadata.Message {
        guard let raw, piece >= 0, piece < UTMetadata.pieceCount(forSize: raw.count) else { return .reject(piece: piece) }
        let start = piece * UTMetadata.pieceSize
        let end = min(raw.count, start + UTMetadata.pieceSize)
        return .data(piece: piece, totalSize: raw.count, payload: Array(raw[start..<end]))
    }
}
