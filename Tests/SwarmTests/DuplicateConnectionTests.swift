import PeerWire
import Testing
@testable import Swarm

@Suite struct DuplicateConnectionTests {
    static let low = PeerID(bytes: Array(repeating: 1, count: 20))!
    static let high = PeerID(bytes: Array(repeating: 2, count: 20))!

    /// Both sides of a simultaneous open, each with one connection each way, keep the same one.
    @Test(arguments: [true, false])
    func bothSidesKeepTheSameConnection(_ newIsOutgoingAtLow: Bool) {
        // At `low`: the new connection goes the given way, the existing one the other.
        let lowReplaces = DuplicateConnection.newReplacesExisting(newIsOutgoing: newIsOutgoingAtLow, existingIsOutgoing: !newIsOutgoingAtLow,
                                                                  ours: Self.low, theirs: Self.high)
        let lowKeepsItsOutgoing = lowReplaces == newIsOutgoingAtLow
        // At `high`, either order of arrival: what `low` calls outgoing is `high`'s incoming.
        for newIsOutgoingAtHigh in [true, false] {
            let highReplaces = DuplicateConnection.newReplacesExisting(newIsOutgoing: newIsOutgoingAtHigh, existingIsOutgoing: !newIsOutgoingAtHigh,
                                                                       ours: Self.high, theirs: Self.low)
            let highKeepsItsIncoming = highReplaces == !newIsOutgoingAtHigh
            #expect(lowKeepsItsOutgoing && highKeepsItsIncoming, "the connection the smaller ID opened survives on both sides")
        }
    }

    @Test func aSecondConnectionTheSameWayIsTheDuplicate() {
        for outgoing in [true, false] {
            #expect(!DuplicateConnection.newReplacesExisting(newIsOutgoing: outgoing, existingIsOutgoing: outgoing, ours: Self.low, theirs: Self.high))
            #expect(!DuplicateConnection.newReplacesExisting(newIsOutgoing: outgoing, existingIsOutgoing: outgoing, ours: Self.high, theirs: Self.low))
        }
    }
}
