import PeerWire
import Testing
@testable import Swarm

@Suite struct RequestLedgerTests {
    static func block(_ piece: Int, _ index: Int = 0) -> BlockRequest { BlockRequest(piece: piece, begin: index * 16384, length: 16384) }

    @Test func aDeliveryIsAnsweredLateOrUnrequestedAndLeavesTheLedger() {
        var ledger = RequestLedger<BlockRequest>()
        ledger.record(Self.block(0), sentAt: 1)
        ledger.record(Self.block(1), sentAt: 2)
        let abandoned = ledger.abandon(Self.block(1))
        #expect(abandoned)
        #expect(ledger.count == 1, "an abandoned request no longer holds a pipeline slot")
        let deliveries = [0, 1, 1, 2].map { ledger.settle(Self.block($0)) }
        #expect(deliveries == [.answered, .late, .unrequested, .unrequested], "late data is taken, but only once")
    }

    @Test func aWithdrawnRequestIsNotExpectedLate() {
        var ledger = RequestLedger<SymbolRequest>()
        ledger.record(SymbolRequest(piece: 3, esi: 10), sentAt: 0)
        ledger.record(SymbolRequest(piece: 3, esi: 11), sentAt: 0)
        ledger.record(SymbolRequest(piece: 4, esi: 12), sentAt: 0)
        let withdrawn = Set(ledger.withdraw(piece: 3))
        #expect(withdrawn == [SymbolRequest(piece: 3, esi: 10), SymbolRequest(piece: 3, esi: 11)])
        let delivery = ledger.settle(SymbolRequest(piece: 3, esi: 10))
        #expect(delivery == .unrequested, "a reject means it will not come")
        #expect(ledger.count == 1)
    }

    @Test func abandonAllKeepsEverythingWelcomeAndForgettingPrunesOnlySettledPiecesPastTheCap() {
        var ledger = RequestLedger<BlockRequest>()
        for index in 0..<4 { ledger.record(Self.block(index % 2, index), sentAt: 0) }
        let abandoned = ledger.abandonAll()
        #expect(abandoned.count == 4)
        #expect(ledger.count == 0 && ledger.late.count == 4)
        ledger.forgetLate(beyond: 4) { $0 == 0 }
        #expect(ledger.late.count == 4, "within the cap nothing is forgotten")
        ledger.forgetLate(beyond: 3) { $0 == 0 }
        #expect(ledger.late == [Self.block(1, 1), Self.block(1, 3)])
    }
}
