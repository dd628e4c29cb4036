import PeerWire

/// Chooses which piece to start next: a few random pieces first (so a new
/// peer soon has something to trade), then rarest-first with random ties.
///
/// Each piece has a priority (from the file priorities, see
/// `PiecePriorities`): 0 means not wanted (never picked), and a higher class
/// is always picked before a lower one; rarest-first works within a class.
/// "Complete" means every *wanted* piece is verified (a partial seed).
///
/// Availability is kept per piece and updated as peers announce pieces. A
/// scan for the rarest piece starts at a random index and stops early on a
/// piece only one peer has in the top class (the common case with few
/// seeds), so picking stays cheap without a sorted structure.
public struct PiecePicker: Sendable {
    public let pieceCount: Int
    /// Verified pieces.
    public private(set) var have: Bitfield
    /// How many connected peers have each piece.
    private var availability: [UInt16]
    /// Pieces being downloaded, verified or written: never started twice.
    private var busy: Bitfield
    /// Per piece: 0 not wanted, else its class (higher first).
    public private(set) var priorities: [UInt8]
    /// The highest class among the pieces (the early stop of a scan needs it).
    private var topPriority: UInt8 = PiecePriorities.normal
    /// Wanted pieces not yet verified, and those of them not yet started:
    /// kept as counts because `isComplete` and the endgame test run per request.
    public private(set) var wantedMissing: Int
    public private(set) var wantedUnstarted: Int
    /// How many pieces are picked at random before rarest-first takes over.
    public var randomFirstPieces = 4

    public init(pieceCount: Int, have: Bitfield) {
        precondition(have.count == pieceCount)
        self.pieceCount = pieceCount
        self.have = have
        availability = [UInt16](repeating: 0, count: pieceCount)
        busy = Bitfield(count: pieceCount)
        priorities = [UInt8](repeating: PiecePriorities.normal, count: pieceCount)
        wantedMissing = pieceCount - have.setCount
        wantedUnstarted = wantedMissing
    }

    /// Every wanted piece is verified (all of them, when none is skipped).
    public var isComplete: Bool { wantedMissing == 0 }
    /// Every wanted piece is verified or under way: nothing new can start.
    public var nothingToStart: Bool { wantedUnstarted == 0 }
    public func isWanted(_ piece: Int) -> Bool { priorities[piece] > 0 }
    public func availability(of piece: Int) -> Int { Int(availability[piece]) }

    /// Replaces every piece's priority (one per piece); takes effect for the next pick.
    public mutating func setPriorities(_ new: [UInt8]) {
        precondition(new.count == pieceCount)
        priorities = new
        topPriority = new.max() ?? PiecePriorities.normal
        wantedMissing = 0
        wantedUnstarted = 0
        for piece in 0..<pieceCount where new[piece] > 0 && !have[piece] {
            wantedMissing += 1
            if !busy[piece] { wantedUnstarted += 1 }
        }
    }

    public mutating func peerHas(_ piece: Int) {
        if availability[piece] < UInt16.max { availability[piece] += 1 }
    }

    public mutating func peerHas(_ pieces: Bitfield) {
        for piece in pieces.setIndices { peerHas(piece) }
    }

    public mutating func peerLeft(with pieces: Bitfield) {
        for piece in pieces.setIndices where availability[piece] > 0 { availability[piece] -= 1 }
    }

    public mutating func markBusy(_ piece: Int) {
        guard !busy[piece] else { return }
        busy[piece] = true
        if isWanted(piece), !have[piece] { wantedUnstarted -= 1 }
    }

    public mutating func markFree(_ piece: Int) {
        guard busy[piece] else { return }
        busy[piece] = false
        if isWanted(piece), !have[piece] { wantedUnstarted += 1 }
    }

    public mutating func markVerified(_ piece: Int) {
        if !have[piece], isWanted(piece) {
            wantedMissing -= 1
            if !busy[piece] { wantedUnstarted -= 1 }
        }
        have[piece] = true
        busy[piece] = false
    }

    /// A piece to start for a peer that has `peerPieces`, or nil when it has
    /// nothing we want and lack that is not already under way.
    public func pickNewPiece<R: RandomNumberGenerator>(from peerPieces: Bitfield, using random: inout R) -> Int? {
        guard pieceCount > 0, wantedUnstarted > 0 else { return nil }
        let start = Int.random(in: 0..<pieceCount, using: &random)
        let randomly = have.setCount < randomFirstPieces
        var best: Int?
        var bestPriority: UInt8 = 0
        var bestAvailability = Int.max
        for offset in 0..<pieceCount {
            let piece = (start + offset) % pieceCount
            guard isCandidate(piece, peerPieces) else { continue }
            let priority = priorities[piece]
            // Random first pieces: the first candidate of the top class after a random start.
            let count = randomly ? 0 : Int(availability[piece])
            if priority > bestPriority || (priority == bestPriority && count < bestAvailability) {
                best = piece
                bestPriority = priority
                bestAvailability = count
                if count <= 1 && priority == topPriority { break }
            }
        }
        return best
    }

    private func isCandidate(_ piece: Int, _ peerPieces: Bitfield) -> Bool {
        peerPieces[piece] && priorities[piece] > 0 && !have[piece] && !busy[piece]
    }
}
