import PeerWire

extension TorrentMachine {
    /// A message arrived from a peer.
    public mutating func received(_ message: PeerMessage, from key: PeerKey, now: Double) {
        guard peers[key] != nil else { return }
        peers[key]!.lastMessageAt = now
        let actionsBefore = actions.count
        defer { followUnreadGreeting(key, actionsBefore: actionsBefore) }
        switch message {
        case .keepAlive, .unknown, .suggestPiece:
            break
        case .choke:
            peers[key]!.peerChoking = true
            // Without the fast extension a choke silently discards our requests;
            // with it, the peer rejects each one it will not serve.
            if !peers[key]!.supportsFast { dropAllRequests(key) }
        case .unchoke:
            peers[key]!.peerChoking = false
            // Pieces it refused symbols of while choking us may be asked of it again.
            fountainReceiver.unchoked(by: key)
            fillRequests(key, now: now)
        case .interested:
            peers[key]!.peerInterested = true
            fillUnchokeSlots(now: now)
        case .notInterested:
            peers[key]!.peerInterested = false
            peerLostInterest(key)
        case .have(let piece):
            receivedHave(piece, from: key, now: now)
        case .bitfield(let bytes):
            receivedWholePieceSet(.bitfield(bytes), from: key, now: now)
        case .haveAll:
            guard requireFast(key, "have_all") else { return }
            receivedWholePieceSet(.all, from: key, now: now)
        case .haveNone:
            guard requireFast(key, "have_none") else { return }
            receivedWholePieceSet(.none, from: key, now: now)
        case .request(let request):
            receivedRequest(request, from: key)
        case .cancel(let request):
            if peers[key]!.serving.remove(request) != nil { actions.append(.cancelServe(key, request)) }
        case .piece(let piece, let begin, let data):
            receivedBlock(piece: piece, begin: begin, data: data, from: key, now: now)
        case .rejectRequest(let request):
            guard requireFast(key, "reject_request") else { return }
            if peers[key]!.requests.withdraw(.block(request)) { dropRequest(request) }
            fillRequests(key, now: now)
        case .allowedFast(let piece):
            guard requireFast(key, "allowed_fast") else { return }
            if peers[key]!.allowedFastFromPeer.count < 64 { peers[key]!.allowedFastFromPeer.insert(piece) }
        case .port(let port):
            if port != 0 { actions.append(.dhtPort(key, port)) }
        case .extended(let id, let payload):
            receivedExtended(id: id, payload: payload, from: key, now: now)
        }
    }

    /// The first message of a peer that dialled us shows that it reads messages
    /// now; if our reply to it sends nothing, a keep-alive goes out instead.
    /// Our handshake and greeting left in one write, and a reader that stops at
    /// the end of the handshake and goes on only when new bytes come in
    /// (Transmission 3.00: its handshake hands the connection over and waits for
    /// the next read) keeps our extension handshake unread until we send again:
    /// without this, until our keep-alive 90 s later, so a magnet downloader
    /// never learns `metadata_size` and asks for nothing. Four bytes, once per
    /// connection; BEP 3 allows a keep-alive at any time.
    private mutating func followUnreadGreeting(_ key: PeerKey, actionsBefore: Int) {
        guard peers[key]?.greetingMayBeUnread == true else { return }
        peers[key]!.greetingMayBeUnread = false
        let answered = actions.dropFirst(actionsBefore).contains { (action: TorrentAction) -> Bool in
            switch action {
            case .send(key, _), .serve(key, _), .serveSymbols(key, _): return true
            default: return false
            }
        }
        if !answered { actions.append(.send(key, .keepAlive)) }
    }

    /// Fast-extension messages from a peer that did not announce it break BEP 6.
    private mutating func requireFast(_ key: PeerKey, _ name: String) -> Bool {
        if peers[key]?.supportsFast == true { return true }
        disconnect(key, "sent \(name) without the fast extension")
        return false
    }

    private mutating func receivedHave(_ piece: Int, from key: PeerKey, now: Double) {
        guard let picker else {
            if peers[key]!.earlyHaves.count < 1 << 20 { peers[key]!.earlyHaves.append(piece) }
            return
        }
        guard piece >= 0, piece < picker.pieceCount else { return disconnect(key, "have for piece \(piece) of \(picker.pieceCount)") }
        if peers[key]!.pieces == nil { peers[key]!.pieces = Bitfield(count: picker.pieceCount) }
        guard peers[key]!.pieces![piece] == false else { return }
        peers[key]!.pieces![piece] = true
        // It has the piece now: the symbols of it we still owe are moot (bf_fountain has no cancel).
        dropOwedSymbols(piece, to: key)
        self.picker!.peerHas(piece)
        if !picker.have[piece], picker.isWanted(piece) {
            peers[key]!.interestingCount += 1
            updateInterest(key)
            fillRequests(key, now: now)
        }
        if peers[key]!.isSeed, isComplete { disconnect(key, "both sides are seeds") }
    }

    /// What a `bitfield`, `have_all` or `have_none` says: the peer's whole piece set.
    enum PieceSetAnnouncement {
        case bitfield([UInt8])
        case all
        case none
    }

    /// BEP 3 and BEP 6 send the piece set once, as the first message. Real
    /// clients send it again later (aria2 sends a fresh `bitfield` in place of
    /// many `have`s once 20 pieces completed since its last one), and libtorrent
    /// takes every one as the new truth: so do we. A later set replaces the
    /// earlier one and the `have`s before it, with availability and interest
    /// recomputed. Only a bitfield of the wrong length is fatal (its spare bits
    /// are ignored, as libtorrent does).
    private mutating func receivedWholePieceSet(_ announcement: PieceSetAnnouncement, from key: PeerKey, now: Double) {
        guard let picker else {
            // No metadata yet: its size cannot be checked; keep the newest, checked on adoption.
            peers[key]!.earlyHaves = []
            peers[key]!.earlyBitfield = nil
            peers[key]!.earlyHaveAll = false
            switch announcement {
            case .bitfield(let bytes): peers[key]!.earlyBitfield = bytes
            case .all: peers[key]!.earlyHaveAll = true
            case .none: break
            }
            return
        }
        let pieces: Bitfield
        switch announcement {
        case .all: pieces = Bitfield(count: picker.pieceCount, allSet: true)
        case .none: pieces = Bitfield(count: picker.pieceCount)
        case .bitfield(let bytes):
            guard let decoded = Bitfield(count: picker.pieceCount, wireBytes: bytes) else {
                return disconnect(key, "bitfield of \(bytes.count) bytes does not match \(picker.pieceCount) pieces")
            }
            pieces = decoded
        }
        setPieces(pieces, for: key)
        guard peers[key] != nil else { return }
        // Symbols we still owe of pieces it has now are moot (bf_fountain has no cancel).
        for piece in fountainServer.owedPieces(to: key) where pieces[piece] { dropOwedSymbols(piece, to: key) }
        fillRequests(key, now: now)
    }

    /// Records a peer's whole piece set (bitfield / have_all / have_none).
    mutating func setPieces(_ pieces: Bitfield, for key: PeerKey) {
        guard let picker else { return }
        if let old = peers[key]!.pieces { self.picker!.peerLeft(with: old) }
        peers[key]!.pieces = pieces
        self.picker!.peerHas(pieces)
        peers[key]!.interestingCount = interestingCount(pieces)
        updateInterest(key)
        if pieces.isComplete, picker.isComplete { disconnect(key, "both sides are seeds") }
    }

    /// Replays what a peer announced before the metadata arrived.
    mutating func applyEarlyAnnouncements(_ key: PeerKey) {
        guard let picker, var peer = peers[key] else { return }
        let early = peer.earlyBitfield
        let haves = peer.earlyHaves
        let haveAll = peer.earlyHaveAll
        peer.earlyBitfield = nil
        peer.earlyHaves = []
        peers[key] = peer
        if haveAll {
            setPieces(Bitfield(count: picker.pieceCount, allSet: true), for: key)
        } else if let early {
            guard let pieces = Bitfield(count: picker.pieceCount, wireBytes: early) else {
                return disconnect(key, "bitfield of \(early.count) bytes does not match \(picker.pieceCount) pieces")
            }
            setPieces(pieces, for: key)
        }
        for piece in haves {
            guard peers[key] != nil else { return }
            received(.have(piece: piece), from: key, now: peers[key]!.lastMessageAt)
        }
    }

    /// Sends interested / not interested when our need for the peer changes.
    mutating func updateInterest(_ key: PeerKey) {
        guard let peer = peers[key] else { return }
        let want = peer.interestingCount > 0 && !isComplete
        guard want != peer.amInterested else { return }
        peers[key]!.amInterested = want
        actions.append(.send(key, want ? .interested : .notInterested))
    }
}
