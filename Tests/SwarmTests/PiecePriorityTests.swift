import Metainfo
import PeerWire
import Testing
import TestSupport
@testable import Swarm

/// The piece picker with a wanted-pieces mask from file priorities: skipped
/// pieces are never picked, high-priority ones go first, and a change takes
/// effect at the next pick.
@Suite struct PiecePriorityTests {
    private let everything = Bitfield(count: 10, allSet: true)

    /// Picks until nothing is left, marking each verified; the order of picks.
    private func drain(_ picker: inout PiecePicker, from pieces: Bitfield, seed: UInt64 = 1) -> [Int] {
        var random = SplitMix64(seed: seed)
        var order: [Int] = []
        while let piece = picker.pickNewPiece(from: pieces, using: &random) {
            order.append(piece)
            picker.markBusy(piece)
            picker.markVerified(piece)
        }
        return order
    }

    @Test func skippedPiecesAreNeverPickedAndTheRestCompletes() {
        var picker = PiecePicker(pieceCount: 10, have: Bitfield(count: 10))
        picker.peerHas(everything)
        var priorities = [UInt8](repeating: PiecePriorities.normal, count: 10)
        for piece in 3..<7 { priorities[piece] = PiecePriorities.skip }
        picker.setPriorities(priorities)
        #expect(picker.wantedMissing == 6)
        let order = drain(&picker, from: everything)
        #expect(Set(order) == Set([0, 1, 2, 7, 8, 9]))
        #expect(picker.isComplete, "complete once every wanted piece is verified")
        #expect(picker.have.setCount == 6)
    }

    @Test func highPiecesComeFirstEvenWhenNormalOnesAreRarer() {
        var have = Bitfield(count: 10)
        for piece in 0..<4 { have[piece] = true }  // past the random first pieces
        var picker = PiecePicker(pieceCount: 10, have: have)
        picker.peerHas(everything)
        picker.peerHas(everything)
        // Piece 4 is the rarest, but 8 and 9 are high.
        var others = everything
        others[4] = false
        picker.peerHas(others)
        var priorities = [UInt8](repeating: PiecePriorities.normal, count: 10)
        priorities[8] = PiecePriorities.high
        priorities[9] = PiecePriorities.high
        picker.setPriorities(priorities)
        let order = drain(&picker, from: everything)
        #expect(Set(order.prefix(2)) == [8, 9])
        #expect(order[2] == 4, "rarest-first within the normal class")
        #expect(order.count == 6)
    }

    @Test func highFirstHoldsDuringTheRandomStartToo() {
        var priorities = [UInt8](repeating: PiecePriorities.normal, count: 10)
        priorities[5] = PiecePriorities.high
        for seed in 1...20 as ClosedRange<UInt64> {
            var picker = PiecePicker(pieceCount: 10, have: Bitfield(count: 10))
            picker.setPriorities(priorities)
            var random = SplitMix64(seed: seed)
            #expect(picker.pickNewPiece(from: everything, using: &random) == 5)
        }
    }

    @Test func changingPrioritiesMidwayTakesEffectAtTheNextPick() {
        var picker = PiecePicker(pieceCount: 10, have: Bitfield(count: 10))
        var priorities = [UInt8](repeating: PiecePriorities.skip, count: 10)
        priorities[0] = PiecePriorities.normal
        priorities[1] = PiecePriorities.normal
        picker.setPriorities(priorities)
        var random = SplitMix64(seed: 3)
        let first = picker.pickNewPiece(from: everything, using: &random)!
        picker.markBusy(first)
        #expect(!picker.nothingToStart)
        // Skip piece 0 and 1 mid-way (one of them under way): nothing left to start.
        picker.setPriorities([UInt8](repeating: PiecePriorities.skip, count: 10))
        #expect(picker.pickNewPiece(from: everything, using: &random) == nil)
        #expect(picker.isComplete && picker.nothingToStart)
        // The one under way is given up; un-skip everything: it all comes back.
        picker.markFree(first)
        picker.setPriorities([UInt8](repeating: PiecePriorities.normal, count: 10))
        #expect(!picker.isComplete)
        #expect(picker.wantedUnstarted == 10)
        #expect(Set(drain(&picker, from: everything)) == Set(0..<10))
        #expect(picker.isComplete && picker.have.isComplete)
    }

    @Test func countsStayRightWhenAnUnwantedPieceArrivesAnyway() {
        var picker = PiecePicker(pieceCount: 4, have: Bitfield(count: 4))
        picker.markBusy(2)
        picker.setPriorities([1, 1, 0, 0])
        #expect(picker.wantedMissing == 2 && picker.wantedUnstarted == 2)
        // A piece that was under way when it was skipped completes after all.
        picker.markVerified(2)
        #expect(picker.wantedMissing == 2 && picker.wantedUnstarted == 2)
        picker.setPriorities([1, 1, 1, 1])
        #expect(picker.wantedMissing == 3, "the verified piece stays verified")
    }

    @Test func piecePrioritiesFollowTheFilesTheyHold() {
        // Files of 100, 50 (padding), 150 and 100 bytes in pieces of 64.
        let layout = FileLayout(sizes: [(["a"], 100, false), ([".pad", "50"], 50, true), (["b"], 150, false), (["c"], 100, false)],
                                pieceLength: 64)
        #expect(layout.pieceCount == 7)
        // a: pieces 0–1; pad: 1–2; b: 2–4 (bytes 150–299); c: 4–6 (300–399).
        let skipB = PiecePriorities.pieces(of: layout, filePriorities: [1, 1, 0, 2])
        #expect(skipB == [1, 1, 0, 0, 2, 2, 2], "the padding does not make piece 2 wanted; piece 4 is shared with c")
        let onlyB = PiecePriorities.pieces(of: layout, filePriorities: [0, 1, 1, 0])
        #expect(onlyB == [0, 0, 1, 1, 1, 0, 0])

        var have = Bitfield(count: 7)
        have[4] = true  // bytes 256–319: 44 of b, 20 of c
        let wanted = PiecePriorities.wantedBytes(of: layout, filePriorities: [1, 1, 0, 2], have: have)
        #expect(wanted.wanted == 200 && wanted.done == 20)
        #expect(PiecePriorities.verifiedBytes(ofFile: 2, layout: layout, have: have) == 44)
    }
}
