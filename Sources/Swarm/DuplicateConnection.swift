import PeerWire

/// Which of two connections to one peer to keep. When both sides dial at once
/// (a holepunch's simultaneous uTP open, or two peers finding each other at
/// the same moment), each ends up with two connections, one each way. Each
/// side must close the *same* one, or both close the one the other kept and
/// none survives. So the rule depends only on what both sides know alike.
///
/// - With another BitFountain peer: the connection opened by the peer with the
///   smaller peer ID is kept. Peer IDs never tie, and both sides see the same
///   two, even behind a NAT that maps the listen port to another one.
/// - With any other client: libtorrent's rule (peer_list.cpp), which most of
///   the swarm runs: the peer with the lower listen port keeps its outgoing
///   connection. Each side knows its own listen port and the other's, from the
///   port it dialled. On a tie libtorrent picks at random, so no rule can always
///   agree with it there; the peer IDs decide ours.
public enum DuplicateConnection {
    /// Whether a new connection from or to the peer (`theirs`) replaces the one we have.
    /// Two in the same direction: the second is the duplicate, it goes.
    /// `theirListenPort`: the port of whichever of the two connections we dialled.
    public static func newReplacesExisting(newIsOutgoing: Bool, existingIsOutgoing: Bool,
                                           ours: PeerID, theirs: PeerID,
                                           ourListenPort: UInt16, theirListenPort: UInt16) -> Bool {
        guard newIsOutgoing != existingIsOutgoing else { return false }
        let weKeepOurOutgoing: Bool
        if theirs.bytes.starts(with: PeerID.clientPrefix.prefix(3)) || ourListenPort == theirListenPort {
            weKeepOurOutgoing = ours.bytes.lexicographicallyPrecedes(theirs.bytes)
        } else {
            weKeepOurOutgoing = ourListenPort < theirListenPort
        }
        return newIsOutgoing == weKeepOurOutgoing
    }
}
