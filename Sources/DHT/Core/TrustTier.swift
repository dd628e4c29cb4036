import Identity

/// How much we know about who a node is (DESIGN §3).
public enum TrustTier: String, Sendable, Hashable, Codable {
    /// Its signature checked out and its ID was made from its key (and, on a
    /// public address, satisfies BEP 42 for the address we saw).
    case verified
    /// A stock mainline node: no signature. Always served; used when no
    /// verified node is as good.
    case plain
    /// A bad signature or an ID that does not match the key: dropped, never stored.
    case invalid
}

/// Checks the BitFountain signature of a received message (DESIGN §3).
///
/// Separate from decoding: parsing costs next to nothing, a signature check
/// ~40 µs, so the core only pays it for messages whose sender's trust matters
/// (responses to our queries).
public struct KRPCVerifier: Sendable {
    private var payload: [UInt8] = []

    public init() {}

    /// The tier of the node that sent `message`, a response or query found in `packet`.
    public mutating func tier(of message: KRPCMessage, senderID: NodeID, packet: UnsafeRawBufferPointer,
                              source: IPAddress, using authenticator: any NodeAuthenticator) -> TrustTier {
        guard let auth = message.authentication else { return .plain }
        guard auth.key.count == Ed25519.publicKeyLength, auth.signature.count == Ed25519.signatureLength,
              let key = Ed25519.PublicKey(bytes: UnsafeRawBufferPointer(rebasing: packet[auth.key])) else {
            return .invalid
        }
        payload.removeAll(keepingCapacity: true)
        KRPCSignature.appendPayload(transactionID: UnsafeRawBufferPointer(rebasing: packet[auth.transactionID]),
                                    type: auth.type, method: UnsafeRawBufferPointer(rebasing: packet[auth.method]),
                                    body: UnsafeRawBufferPointer(rebasing: packet[auth.body]), to: &payload)
        let signatureOK = payload.withUnsafeBytes {
            authenticator.isValid(signature: UnsafeRawBufferPointer(rebasing: packet[auth.signature]), message: $0,
                                  key: UnsafeRawBufferPointer(rebasing: packet[auth.key]))
        }
        guard signatureOK else { return .invalid }
        switch SignedNodeID.check(senderID, publicKey: key, source: source) {
        case .ipBound: return .verified
        case .keyOnly: return .plain
        case .mismatch: return .invalid
        }
    }
}
