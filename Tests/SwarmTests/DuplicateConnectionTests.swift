import PeerWire
import Testing
@testable import Swarm

@Suite struct DuplicateConnectionTests {
    /// Two BitFountain peer IDs (our client prefix) and a libtorrent one.
    static let bitFountainLow = PeerID(bytes: PeerID.clientPrefix + Array(repeating: 1, count: 12))!
    static let bitFountainHigh = PeerID(bytes: PeerID.clientPrefix + Array(repeating: 2, count: 12))!
    static let libtorrent = PeerID(bytes: Array("-LT2080-".utf8) + Array(repeating: 0, count: 12))!

    /// Whether the peer `me` keeps the connection it opened, asking the rule both ways round
    /// (the new connection outgoing, or incoming); the two answers must agree.
    static func keepsItsOutgoing(_ me: PeerID, _ peer: PeerID, myPort: UInt16, peerPortAsISeeIt: UInt16) -> Bool {
        let newOutgoingReplaces = DuplicateConnection.newReplacesExisting(
            newIsOutgoing: true, existingIsOutgoing: false, ours: me, theirs: peer, ourListenPort: myPort, theirListenPort: peerPortAsISeeIt)
        let newIncomingReplaces = DuplicateConnection.newReplacesExisting(
            newIsOutgoing: false, existingIsOutgoing: true, ours: me, theirs: peer, ourListenPort: myPort, theirListenPort: peerPortAsISeeIt)
        #expect(newOutgoingReplaces != newIncomingReplaces, "the order of arrival must not matter")
        return newOutgoingReplaces
    }

    @Test(arguments: [(UInt16(6881), UInt16(6881)), (6881, 51413), (51413, 6881)])
    func twoBitFountainPeersKeepTheSameConnectionWhateverPortsTheySee(_ ports: (UInt16, UInt16)) {
        // Behind a NAT that remaps ports, each side may see the other's listen port differently
        // from how that side sees it: the peer IDs decide, and both read them alike.
        let lowKeepsItsOutgoing = Self.keepsItsOutgoing(Self.bitFountainLow, Self.bitFountainHigh, myPort: ports.0, peerPortAsISeeIt: ports.1)
        let highKeepsItsOutgoing = Self.keepsItsOutgoing(Self.bitFountainHigh, Self.bitFountainLow, myPort: 40_000, peerPortAsISeeIt: 40_001)
        #expect(lowKeepsItsOutgoing && !highKeepsItsOutgoing, "the connection the smaller ID opened survives on both sides")
    }

    /// libtorrent (peer_list.cpp): the side with the lower listen port keeps its outgoing
    /// connection, comparing its own listen port with the port it dialled.
    static func libtorrentKeepsItsOutgoing(itsPort: UInt16, ourPort: UInt16) -> Bool { itsPort < ourPort }

    @Test(arguments: [(UInt16(6881), UInt16(51413)), (51413, 6881), (1, 65_535)])
    func withAStockClientTheLowerListenPortKeepsItsOutgoingAsLibtorrentDecides(_ ports: (ours: UInt16, theirs: UInt16)) {
        let weKeepOurs = Self.keepsItsOutgoing(Self.bitFountainLow, Self.libtorrent, myPort: ports.ours, peerPortAsISeeIt: ports.theirs)
        let itKeepsItsOwn = Self.libtorrentKeepsItsOutgoing(itsPort: ports.theirs, ourPort: ports.ours)
        #expect(weKeepOurs == (ports.ours < ports.theirs))
        #expect(weKeepOurs != itKeepsItsOwn, "one connection survives: ours or theirs, never neither or both")
    }

    @Test func withAStockClientOnTheSamePortThePeerIDsDecide() {
        // libtorrent picks at random on a tie; ours is at least stable.
        #expect(Self.keepsItsOutgoing(Self.bitFountainLow, Self.libtorrent, myPort: 6881, peerPortAsISeeIt: 6881)
            == Self.bitFountainLow.bytes.lexicographicallyPrecedes(Self.libtorrent.bytes))
    }

    @Test func aSecondConnectionTheSameWayIsTheDuplicate() {
        for outgoing in [true, false] {
            for (ours, theirs) in [(Self.bitFountainLow, Self.bitFountainHigh), (Self.bitFountainHigh, Self.libtorrent)] {
                #expect(!DuplicateConnection.newReplacesExisting(newIsOutgoing: outgoing, existingIsOutgoing: outgoing, ours: ours,
                                                                 theirs: theirs, ourListenPort: 1, theirListenPort: 2))
            }
        }
    }
}
