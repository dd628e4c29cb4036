import Metainfo
import NIOCore
import PeerWire
import Testing
@testable import Swarm

/// The fountain receiver sub-machine on its own: when a peer is asked for
/// repair symbols (coverage and endgame hedging), what a decode outcome means,
/// and its per-peer books.
@Suite struct FountainReceiverTests {
    /// A piece of K = 4 source symbols with nothing in hand.
    static func assembly() -> PieceAssembly { PieceAssembly(piece: 0, length: 4 * blockSize) }

    /// Whether `peer` is asked for one more symbol, with or without another peer able to help.
    static func covers(_ receiver: FountainReceiver, _ assembly: PieceAssembly, from peer: UInt64, another: Bool) -> Bool {
        receiver.wantsCoverage(assembly, from: peer) { another }
    }

    static func block(_ index: Int) -> PieceRequest { .block(BlockRequest(piece: 0, begin: index * blockSize, length: blockSize)) }

    @Test func coverageAsksForWhatIsMissingAndSharesItWhenAnotherPeerCanHelp() {
        let receiver = FountainReceiver()
        var assembly = Self.assembly()
        var random = SplitMix64(seed: 1)
        #expect(Self.covers(receiver, assembly, from: 1, another: false))
        for _ in 0..<2 { _ = assembly.takeRepairESI(for: 1, using: &random) }
        #expect(!Self.covers(receiver, assembly, from: 1, another: true), "half of the four missing is asked of peer 1")
        #expect(Self.covers(receiver, assembly, from: 1, another: false), "all of it when nobody else can help")
        #expect(Self.covers(receiver, assembly, from: 2, another: true), "the other half goes to another peer")
        for _ in 0..<2 { _ = assembly.takeRepairESI(for: 2, using: &random) }
        var asked = false
        let wanted = receiver.wantsCoverage(assembly, from: 3) {
            asked = true
            return true
        }
        #expect(!wanted, "four on order cover the piece")
        #expect(!asked, "other peers are looked at only when symbols are missing")
    }

    @Test func blocksOnOrderCountAndTheRepairCapHolds() {
        let receiver = FountainReceiver()
        var assembly = Self.assembly()
        for index in 0..<4 { assembly.markRequested(index) }
        #expect(!Self.covers(receiver, assembly, from: 1, another: false), "the blocks on order will do")
        assembly.repair.extraNeeded = 1
        #expect(Self.covers(receiver, assembly, from: 1, another: false), "an unsolvable attempt wants one more")
        assembly.repair.askedOf[1] = FountainReceiver.repairCap(sourceSymbols: 4)
        #expect(!Self.covers(receiver, assembly, from: 1, another: false), "a peer is never asked past 2K + 4")
    }

    @Test func aSuspectIsNeverAskedAndWhatItOwesDoesNotCount() {
        let receiver = FountainReceiver()
        var assembly = Self.assembly()
        var random = SplitMix64(seed: 2)
        for _ in 0..<5 { _ = assembly.takeRepairESI(for: 9, using: &random) }
        #expect(!Self.covers(receiver, assembly, from: 1, another: false), "five on order cover K = 4")
        assembly.repair.suspect = RepairSymbols.Suspicion(tested: [], target: 9)
        #expect(!Self.covers(receiver, assembly, from: 9, another: false))
        #expect(Self.covers(receiver, assembly, from: 1, another: false), "K + 1 are wanted from everybody but the suspect")
    }

    @Test func aRefusedPieceIsNotAskedAgainUntilThePeerUnchokesUs() {
        var receiver = FountainReceiver()
        receiver.refused(piece: 0, by: 1)
        #expect(!Self.covers(receiver, Self.assembly(), from: 1, another: false))
        #expect(Self.covers(receiver, Self.assembly(), from: 2, another: false), "refusals are per peer")
        receiver.unchoked(by: 1)
        #expect(Self.covers(receiver, Self.assembly(), from: 1, another: false))
        for piece in 0..<(FountainReceiver.refusalsKept + 10) { receiver.refused(piece: piece, by: 3) }
        #expect(!receiver.hasRefused(piece: FountainReceiver.refusalsKept + 5, by: 3), "the refusals kept are bounded")
        receiver.peerGone(3)
        #expect(!receiver.hasRefused(piece: 0, by: 3))
    }

    @Test func theEndgameHedgesOnlyWorkQueuedClearlyLaterThanOurs() {
        let receiver = FountainReceiver()
        var slow = RequestLedger(now: 0)
        for index in 0..<4 { slow.record(Self.block(index), sentAt: Double(index)) }
        // One block a second: the four arrive at 1, 2, 3 and 4 s.
        let slowView = FountainReceiver.QueueView(own: RequestLedger(), others: [(rate: Double(blockSize), requests: slow)])
        #expect(slowView.arrivals[0] == [1, 2, 3, 4])
        var assembly = Self.assembly()
        for index in 0..<4 { assembly.markRequested(index) }
        #expect(receiver.wantsHedge(assembly, from: 1, arrival: 0.5, queues: slowView, batched: 0))
        #expect(!receiver.wantsHedge(assembly, from: 1, arrival: 0.5, queues: slowView, batched: 4), "already hedged in this pass")
        #expect(!receiver.wantsHedge(assembly, from: 1, arrival: 8, queues: slowView, batched: 0), "ours would come no sooner")
        let fast = FountainReceiver.QueueView(own: RequestLedger(), others: [(rate: 1e9, requests: slow)])
        #expect(!receiver.wantsHedge(assembly, from: 1, arrival: 0.5, queues: fast, batched: 0), "they arrive in time anyway")
        let stalled = FountainReceiver.QueueView(own: RequestLedger(), others: [(rate: 0, requests: slow)])
        #expect(stalled.arrivals[0] == Array(repeating: Double.infinity, count: 4), "a stalled peer never delivers")
        assembly.repair.suspect = RepairSymbols.Suspicion(tested: [], target: 5)
        #expect(!receiver.wantsHedge(assembly, from: 1, arrival: 0.5, queues: slowView, batched: 0), "a suspect search is not hedged")
    }

    @Test func aVerifiedDecodeIsStoredAndItsCulpritsCountedLowestKeyFirst() {
        var receiver = FountainReceiver()
        let verdict = receiver.decoded(.verified(culprits: [7: 2, 3: 1]), assembly: Self.assembly(), helpers: [])
        #expect(verdict == .store(culprits: [.init(key: 3, wrongSymbols: 1), .init(key: 7, wrongSymbols: 2)]))
        #expect(receiver.piecesDecoded == 1 && receiver.pollutedSymbols == 3)
        #expect(receiver.decoded(.undecodable, assembly: Self.assembly(), helpers: []) == .oneMoreSymbol)
        #expect(receiver.decoded(.soleSenderWrong(4), assembly: Self.assembly(), helpers: []) == .soleSenderWrong(4))
        #expect(receiver.piecesDecoded == 1, "only verified pieces count")
    }

    @Test func wrongDataFromSeveralLeavesOutTheBiggestContributorSomeoneElseCanReplace() {
        var receiver = FountainReceiver()
        var assembly = Self.assembly()
        let data = ByteBuffer(repeating: 1, count: blockSize)
        for (index, sender) in [(0, 1), (1, 1), (2, 2), (3, 3)] { _ = assembly.receive(index, data: data, from: UInt64(sender)) }
        let first = receiver.decoded(.corrupt(tested: []), assembly: assembly, helpers: [1, 2, 3])
        #expect(first == .leaveOut(RepairSymbols.Suspicion(tested: [], target: 1)), "peer 1 sent the most")
        assembly.repair.suspect = RepairSymbols.Suspicion(tested: [], target: 1)
        let second = receiver.decoded(.corrupt(tested: [1]), assembly: assembly, helpers: [2])
        #expect(second == .leaveOut(RepairSymbols.Suspicion(tested: [1], target: 3)),
                "peer 2 cannot be left out with nobody else to replace it")
        let none = receiver.decoded(.corrupt(tested: [1, 3]), assembly: assembly, helpers: [2])
        #expect(none == .leaveOut(RepairSymbols.Suspicion(tested: [1, 3], target: nil)), "nobody left to try: give up")
    }

    @Test func symbolsTakenAreCountedPerPeerUntilItLeaves() {
        var receiver = FountainReceiver()
        receiver.took(symbolFrom: 1)
        receiver.took(symbolFrom: 1)
        receiver.took(symbolFrom: 2)
        #expect(receiver.symbolsTaken(from: 1) == 2 && receiver.symbolsReceived == 3)
        receiver.peerGone(1)
        #expect(receiver.symbolsTaken(from: 1) == 0 && receiver.symbolsReceived == 3, "the session total stays")
    }
}
