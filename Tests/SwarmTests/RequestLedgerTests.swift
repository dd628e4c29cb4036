import PeerWire
import Testing
@testable import Swarm

/// One peer's ledger of block and symbol requests: how deliveries match,
/// what withdrawing and abandoning do to each kind, and the timeout clock.
@Suite struct RequestLedgerTests {
    static func block(_ piece: Int, _ index: Int = 0) -> PieceRequest {
        .block(BlockRequest(piece: piece, begin: index * 16384, length: 16384))
    }

    static func symbol(_ piece: Int, _ esi: UInt32) -> PieceRequest { .symbol(SymbolRequest(piece: piece, esi: esi)) }

    @Test func aDeliveryIsAnsweredLateOrUnrequestedAndLeavesTheLedger() {
        var ledger = RequestLedger()
        ledger.record(Self.block(0), sentAt: 1)
        ledger.record(Self.block(1), sentAt: 2)
        ledger.record(Self.symbol(1, 40), sentAt: 2)
        let abandoned = ledger.abandon(Self.block(1))
        #expect(abandoned)
        #expect(ledger.count == 2, "an abandoned request no longer holds a pipeline slot")
        let deliveries = [Self.block(0), Self.block(1), Self.block(1), Self.block(2), Self.symbol(1, 40), Self.symbol(1, 41)]
            .map { ledger.settle($0, at: 3) }
        #expect(deliveries == [.answered, .late, .unrequested, .unrequested, .answered, .unrequested],
                "late data is taken, but only once; blocks and symbols alike")
    }

    @Test func withdrawingAndAbandoningAPieceTouchOnlyTheKindAskedFor() {
        var ledger = RequestLedger()
        ledger.record(Self.symbol(3, 10), sentAt: 0)
        ledger.record(Self.symbol(3, 11), sentAt: 0)
        ledger.record(Self.symbol(4, 12), sentAt: 0)
        ledger.record(Self.block(3), sentAt: 0)
        let withdrawn = Set(ledger.withdraw(piece: 3, kind: .symbol))
        #expect(withdrawn == [Self.symbol(3, 10), Self.symbol(3, 11)], "a symbol reject leaves the piece's blocks on order")
        #expect(ledger.settle(Self.symbol(3, 10), at: 1) == .unrequested, "a reject means it will not come")
        #expect(ledger.count == 2)
        #expect(ledger.abandon(piece: 3, kind: .block) == [Self.block(3)])
        #expect(ledger.count == 1 && ledger.contains(Self.symbol(4, 12)))
        #expect(ledger.settle(Self.block(3), at: 1) == .late, "an abandoned block is still taken")
    }

    @Test func abandonAllKeepsEverythingWelcomeAndForgettingPrunesOnlySettledPiecesPastTheCap() {
        var ledger = RequestLedger()
        for index in 0..<3 { ledger.record(Self.block(index % 2, index), sentAt: 0) }
        ledger.record(Self.symbol(1, 9), sentAt: 0)
        let abandoned = ledger.abandonAll()
        #expect(abandoned.count == 4)
        #expect(ledger.count == 0 && ledger.late.count == 4)
        ledger.forgetLate(beyond: 4) { $0 == 0 }
        #expect(ledger.late.count == 4, "within the cap nothing is forgotten")
        ledger.forgetLate(beyond: 3) { $0 == 0 }
        #expect(ledger.late == [Self.block(1, 1), Self.symbol(1, 9)])
    }

    @Test func theTimeoutClockRunsOnlyWhileRequestsAreOutAndRestartsOnProgress() {
        var ledger = RequestLedger(now: 0)
        #expect(!ledger.isTimedOut(now: 100, after: 10), "nothing asked: no silence to blame")
        ledger.record(Self.block(0), sentAt: 50)
        ledger.record(Self.symbol(0, 20), sentAt: 55)
        #expect(ledger.lastProgressAt == 50, "the clock starts with the first request into an empty pipeline")
        #expect(!ledger.isTimedOut(now: 60, after: 10) && ledger.isTimedOut(now: 61, after: 10))
        _ = ledger.settle(Self.symbol(0, 20), at: 58)
        #expect(!ledger.isTimedOut(now: 61, after: 10), "a symbol delivered counts as progress as a block does")
        _ = ledger.settle(Self.block(7), at: 70)
        #expect(ledger.lastProgressAt == 58, "data never asked for is no progress")
        _ = ledger.abandonAll()
        ledger.record(Self.block(1), sentAt: 200)
        #expect(!ledger.isTimedOut(now: 205, after: 10), "after an idle spell the clock restarts")
    }
}
