import PeerWire

/// Chooses which piece to start next: a few random pieces first (so a new
/// peer soon has something to trade), then rarest-first with random ties.
///
/// Availability is kept per piece and updated as peers announce pieces. A
/// scan for the rarest piece starts at a random index and stops early on a
/// piece only one peer has (the common case with few seeds), so picking
/// stays cheap without a sorted structure.
public struct PiecePicker: Sendable {
    public let pieceCount: Int
    /// Verified pieces.
    public private(set) var have: Bitfield
    /// How many connected peers have each piece.
    private var availability: [UInt16]
    /// Pieces being downloaded, verified or written: never started twice.
    private var busy: Bitfield
    /// How many pieces are picked at random before rarest-first takes over.
    public var randomFirstPieces = 4

    public init(pieceCount: Int, have: Bitfield) {
        precondition(have.count == pieceCount)
        self.pieceCount = pieceCount
        self.have = have
        availability = [UInt16](repeating: 0, count: pieceCount)
        busy = Bitfield(count: pieceCount)
    }

    public var isComplete: Bool { have.isComplete }
    public func availability(of piece: Int) -> Int { Int(availability[piece]) }

    public mutating func peerHas(_ piece: Int) {
        if availability[piece] < UInt16.max { availability[piece] += 1 }
    }

    public mutating func peerHas(_ pieces: Bitfield) {
        for piece in pieces.setIndices { peerHas(piece) }
    }

    public mutating func peerLeft(with pieces: Bitfield) {
        for piece in pieces.setIndices where availability[piece] > 0 { availability[piece] -= 1 }
    }

    public mutating func markBusy(_ piece: Int) { busy[piece] = true }
    public mutating func markFree(_ piece: Int) { busy[piece] = false }
    public mutating func markVerified(_ piece: Int) {
        have[piece] = true
        busy[piece] = false
    }

    /// A piece to start for a peer that has `peerPieces`, or nil when it has
    /// nothing we lack that is not already under way.
    public func pickNewPiece<R: RandomNumberGenerator>(from peerPieces: Bitfield, using random: inout R) -> Int? {
        guard pieceCount > 0 else { return nil }
        let start = Int.random(in: 0..<pieceCount, using: &random)
        if have.setCount < randomFirstPieces {
            // Random first pieces: the first candidate after a random start.
            for offset in 0..<pieceCount {
                let piece = (start + offset) % pieceCount
                if isCandidate(piece, peerPieces) { return piece }
            }
            return nil
        }
        var best: Int?
        var bestAvailability = Int.max
        for offset in 0..<pieceCount {
            let piece = (start + offset) % pieceCount
            guard isCandidate(piece, peerPieces) else { continue }
            let count = Int(availability[piece])
            if count < bestAvailability {
                best = piece
                bestAvailability = count
                if count <= 1 { break }
            }
        }
        return best
    }

    private func isCandidate(_ piece: Int, _ peerPieces: Bitfield) -> Bool {
        peerPieces[piece] && !have[piece] && !busy[piece]
    }
}
