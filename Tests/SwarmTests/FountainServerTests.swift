import Testing
@testable import Swarm

/// The fountain server sub-machine on its own: which symbol requests are taken
/// on, the per-peer queue bound shared with blocks, and what stays owed.
@Suite struct FountainServerTests {
    @Test func aServableRequestIsOwedUntilSentAndRepeatsAreServedOnce() {
        var server = FountainServer(queueLimit: 10)
        #expect(server.request(piece: 2, esis: [5, 6, 5], from: 1, servable: true, blocksQueued: 0) == .serve([5, 6]))
        #expect(server.request(piece: 2, esis: [6, 7], from: 1, servable: true, blocksQueued: 0) == .serve([7]))
        #expect(server.request(piece: 2, esis: [5, 7], from: 1, servable: true, blocksQueued: 0) == .alreadyOwed)
        #expect(server.owedCount(to: 1) == 3)
        let first = server.sent(piece: 2, esi: 5, to: 1)
        let again = server.sent(piece: 2, esi: 5, to: 1)
        #expect(first && !again, "sent once; a second write does not count")
        #expect(!server.isOwed(piece: 2, esi: 5, to: 1) && server.isOwed(piece: 2, esi: 6, to: 1))
        #expect(server.symbolsSent == 1 && server.owedCount(to: 1) == 2)
        #expect(server.owedCount(to: 2) == 0, "each peer has its own books")
    }

    @Test func aPieceThatMayNotBeServedIsRejectedAndNothingIsOwed() {
        var server = FountainServer(queueLimit: 10)
        #expect(server.request(piece: 0, esis: [9], from: 1, servable: false, blocksQueued: 0) == .reject)
        #expect(server.owedPieces(to: 1).isEmpty)
    }

    @Test func blocksAndSymbolsShareOneQueueBoundPerPeer() {
        var server = FountainServer(queueLimit: 4)
        #expect(server.request(piece: 0, esis: [10, 11], from: 1, servable: true, blocksQueued: 1) == .serve([10, 11]))
        #expect(server.request(piece: 1, esis: [12, 13], from: 1, servable: true, blocksQueued: 1) == .reject,
                "1 block + 2 symbols + 2 more would pass 4")
        #expect(server.request(piece: 1, esis: [12], from: 1, servable: true, blocksQueued: 1) == .serve([12]))
        #expect(server.request(piece: 1, esis: [13], from: 2, servable: true, blocksQueued: 0) == .serve([13]),
                "another peer's queue is its own")
    }

    @Test func droppingAPieceFreesItsRoomAndSaysWhetherAnythingWasOwed() {
        var server = FountainServer(queueLimit: 3)
        _ = server.request(piece: 4, esis: [1, 2], from: 1, servable: true, blocksQueued: 0)
        _ = server.request(piece: 3, esis: [3], from: 1, servable: true, blocksQueued: 0)
        #expect(server.owedPieces(to: 1) == [3, 4])
        #expect(server.owes(piece: 4, to: 1))
        let dropped = server.drop(piece: 4, to: 1)
        let droppedAgain = server.drop(piece: 4, to: 1)
        #expect(dropped && !droppedAgain, "nothing left to drop the second time")
        #expect(!server.owes(piece: 4, to: 1) && !server.isOwed(piece: 4, esi: 1, to: 1))
        #expect(server.request(piece: 5, esis: [7, 8], from: 1, servable: true, blocksQueued: 0) == .serve([7, 8]))
    }

    @Test func aPeerThatLeftIsOwedNothing() {
        var server = FountainServer(queueLimit: 3)
        _ = server.request(piece: 0, esis: [1, 2, 3], from: 1, servable: true, blocksQueued: 0)
        server.peerGone(1)
        #expect(server.owedCount(to: 1) == 0 && server.owedPieces(to: 1).isEmpty)
        let sent = server.sent(piece: 0, esi: 1, to: 1)
        #expect(!sent, "nothing owed, nothing counted")
        #expect(server.request(piece: 0, esis: [1, 2, 3], from: 1, servable: true, blocksQueued: 0) == .serve([1, 2, 3]),
                "a peer that comes back starts with an empty queue")
    }
}
