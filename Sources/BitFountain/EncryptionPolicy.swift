import PeerWire

/// How a node uses MSE/PE (message stream encryption), `--encryption`.
/// Modelled on libtorrent's `pe_enabled` / `pe_forced` / `pe_disabled` and
/// Transmission's preferred / required / tolerated (see docs/ENCRYPTION.md).
///
/// | policy | outgoing | incoming |
/// |---|---|---|
/// | `prefer` (default) | MSE offering plaintext and RC4; if the peer hangs up, stalls or answers something other than MSE before the handshake completes, redial once in plaintext | plaintext and MSE handshakes both accepted; of an MSE offer we select plaintext if offered, else RC4 |
/// | `require` | MSE offering RC4 only, no plaintext retry | plaintext handshakes refused; MSE with RC4 only |
/// | `disable` | plaintext only | plaintext only; MSE handshakes refused |
///
/// Why plaintext is selected when both sides allow it: the handshake is
/// obfuscated either way (what protocol-matching middleboxes look at), while
/// RC4 on every payload byte costs CPU; libtorrent does the same by default
/// (`prefer_rc4` off). A peer that wants RC4 offers only RC4 and gets it.
///
/// Why `disable` refuses incoming MSE rather than tolerating it (as
/// Transmission's "tolerated" does): it is the switch a user reaches for to
/// get connections with no encryption code in the path at all (to debug, to
/// read a capture, or to rule MSE out), which is libtorrent's and
/// qBittorrent's meaning of "disabled". Peers that prefer MSE fall back to
/// plaintext; only peers that require it cannot connect, which is what was asked.
public enum EncryptionPolicy: String, Sendable, CaseIterable {
    case prefer
    case require
    case disable

    /// `crypto_provide` of our outgoing MSE handshakes; nil: dial in plaintext.
    public var outgoingOffer: MSECryptoMethods? {
        switch self {
        case .prefer: return [.plaintext, .rc4]
        case .require: return .rc4
        case .disable: return nil
        }
    }

    /// What we may select for an incoming MSE handshake; nil: refuse MSE.
    public var incomingAccepted: MSECryptoMethods? {
        switch self {
        case .prefer: return [.plaintext, .rc4]
        case .require: return .rc4
        case .disable: return nil
        }
    }

    /// Whether an incoming plaintext BitTorrent handshake is accepted.
    public var acceptsPlaintextHandshake: Bool { self != .require }

    /// Whether an outgoing MSE attempt that fails before completing is redialled in plaintext.
    public var retriesInPlaintext: Bool { self == .prefer }
}
