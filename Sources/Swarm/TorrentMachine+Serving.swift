import PeerWire

extension TorrentMachine {
    /// Largest block we serve; 16 KiB is the norm, some clients ask for up to 128 KiB.
    static let maxServedBlock = 128 << 10

    /// A peer asks for a block. Served if it is unchoked (or the piece is
    /// allowed-fast), we have the piece and its queue with us is not full;
    /// otherwise rejected (BEP 6) or ignored.
    mutating func receivedRequest(_ request: BlockRequest, from key: PeerKey) {
        guard let info, let have = picker?.have else { return reject(request, key) }
        guard request.piece >= 0, request.piece < info.pieceCount, request.begin >= 0, request.length > 0,
              request.length <= TorrentMachine.maxServedBlock,
              request.begin + request.length <= info.layout.length(ofPiece: request.piece) else {
            return disconnect(key, "invalid request \(request)")
        }
        let peer = peers[key]!
        guard have[request.piece], !peer.amChoking || peer.allowedFastToPeer.contains(request.piece),
              peer.serving.count < configuration.servedRequestQueue,
              !peer.serving.contains(request) else { return reject(request, key) }
        peers[key]!.serving.insert(request)
        actions.append(.serve(key, request))
    }

    private mutating func reject(_ request: BlockRequest, _ key: PeerKey) {
        if peers[key]?.supportsFast == true { actions.append(.send(key, .rejectRequest(request))) }
    }

    /// The adapter could not read a block it was to serve (the file went away
    /// or the disk failed): it is rejected, so the peer asks elsewhere and the
    /// request stops holding a place in its queue with us.
    public mutating func blockUnavailable(_ request: BlockRequest, to key: PeerKey) {
        guard peers[key]?.serving.remove(request) != nil else { return }
        reject(request, key)
    }

    /// The adapter wrote a served block to the socket.
    public mutating func uploaded(_ request: BlockRequest, to key: PeerKey) {
        guard peers[key]?.serving.remove(request) != nil else { return }
        peers[key]!.upload.add(request.length)
        uploadedPayload += Int64(request.length)
    }
}
