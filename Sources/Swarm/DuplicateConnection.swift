import PeerWire

/// Which of two connections to one peer to keep. When both sides dial at once
/// (a holepunch's simultaneous uTP open, or two peers finding each other at
/// the same moment), each ends up with two connections, one each way. Each
/// side must close the *same* one, or both close the one the other kept and
/// none survives. So the rule depends only on what both sides know alike:
/// the connection opened by the peer with the smaller peer ID is kept.
/// (libtorrent settles this by comparing listen ports, which are often equal
/// behind port-preserving NATs; peer IDs never are.)
public enum DuplicateConnection {
    /// Whether a new connection from or to the peer (`theirs`) replaces the one we have.
    /// Two in the same direction: the second is the duplicate, it goes.
    public static func newReplacesExisting(newIsOutgoing: Bool, existingIsOutgoing: Bool,
                                           ours: PeerID, theirs: PeerID) -> Bool {
        guard newIsOutgoing != existingIsOutgoing else { return false }
        let weOpenedFirst = ours.bytes.lexicographicallyPrecedes(theirs.bytes)
        return newIsOutgoing == weOpenedFirst
    }
}
