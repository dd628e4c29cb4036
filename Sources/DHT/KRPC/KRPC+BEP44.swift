import Crypto
import Identity

/// BEP 44: storing arbitrary items in the DHT. An item is a bencoded value
/// (at most 1,000 bytes), either *immutable* (stored under the SHA-1 of its
/// bencoded form) or *mutable* (stored under SHA-1(public key ‖ salt), signed
/// by that ed25519 key together with a sequence number that only grows).
public enum BEP44 {
    /// Largest bencoded `v` a node stores (BEP 44 "MAY reject" beyond this; every implementation does).
    public static let maxValueLength = 1_000
    /// Largest salt (BEP 44 "MUST NOT be longer").
    public static let maxSaltLength = 64

    /// The target of an immutable item: SHA-1 of the value exactly as bencoded.
    public static func immutableTarget(value: [UInt8]) -> NodeID {
        NodeID(bytes: Array(Insecure.SHA1.hash(data: value)))!
    }

    /// The target of a mutable item: SHA-1 of the public key followed by the salt.
    public static func mutableTarget(publicKey: [UInt8], salt: [UInt8]) -> NodeID {
        var hash = Insecure.SHA1()
        hash.update(data: publicKey)
        hash.update(data: salt)
        return NodeID(bytes: Array(hash.finalize()))!
    }

    /// The exact bytes a mutable item's signature covers (BEP 44, "Signature
    /// Verification"): `4:salt<len>:<salt>` when the salt is not empty, then
    /// `3:seqi<seq>e1:v` and the value as bencoded. Building the buffer from
    /// its parts, never re-encoding a dictionary, is what the BEP asks for.
    public static func signedPayload(salt: [UInt8], sequence: Int64, value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(salt.count + value.count + 40)
        if !salt.isEmpty {
            out += Array("4:salt".utf8)
            out += Array(String(salt.count).utf8)
            out.append(UInt8(ascii: ":"))
            out += salt
        }
        out += Array("3:seqi".utf8)
        out += Array(String(sequence).utf8)
        out += Array("e1:v".utf8)
        out += value
        return out
    }
}

extension KRPCError {
    /// BEP 44 error codes.
    public static let valueTooBig: Int64 = 205
    public static let invalidSignature: Int64 = 206
    public static let saltTooBig: Int64 = 207
    public static let casMismatch: Int64 = 301
    public static let sequenceTooLow: Int64 = 302
}

/// A signed mutable item, as stored and as sent in `put` and `get` replies.
/// Nothing here is trusted until `hasValidSignature` says so.
public struct MutableItem: Sendable, Hashable {
    public var publicKey: [UInt8]
    public var salt: [UInt8]
    public var sequence: Int64
    /// The bencoded value, byte for byte as it was signed.
    public var value: [UInt8]
    public var signature: [UInt8]

    public init(publicKey: [UInt8], salt: [UInt8], sequence: Int64, value: [UInt8], signature: [UInt8]) {
        self.publicKey = publicKey
        self.salt = salt
        self.sequence = sequence
        self.value = value
        self.signature = signature
    }

    /// Signs `value` (already bencoded) under `key`.
    public init(signing value: [UInt8], sequence: Int64, salt: [UInt8] = [], with key: Ed25519.SigningKey) {
        let payload = BEP44.signedPayload(salt: salt, sequence: sequence, value: value)
        self.init(publicKey: key.publicKey.bytes, salt: salt, sequence: sequence, value: value,
                  signature: key.sign(payload))
    }

    public var target: NodeID { BEP44.mutableTarget(publicKey: publicKey, salt: salt) }

    /// Key and signature have the right lengths and the signature covers
    /// this salt, sequence number and value.
    public var hasValidSignature: Bool {
        guard publicKey.count == Ed25519.publicKeyLength, signature.count == Ed25519.signatureLength else { return false }
        let payload = BEP44.signedPayload(salt: salt, sequence: sequence, value: value)
        return Ed25519.isValid(signature: signature, message: payload, publicKey: publicKey)
    }
}

/// An item of either kind.
public enum DHTItem: Sendable, Hashable {
    case immutable(value: [UInt8])
    case mutable(MutableItem)

    public var value: [UInt8] {
        switch self {
        case .immutable(let value): return value
        case .mutable(let item): return item.value
        }
    }

    public var target: NodeID {
        switch self {
        case .immutable(let value): return BEP44.immutableTarget(value: value)
        case .mutable(let item): return item.target
        }
    }
}

/// The arguments of a `put` as received: not yet checked (lengths,
/// signature, sequence), since refusing each with its BEP 44 error code is
/// the storing node's job, not the decoder's.
public struct PutRequest: Sendable, Equatable {
    public var token: ShortBytes
    /// The raw bencoded `v`.
    public var value: [UInt8]
    /// Present for mutable items (with `sequence` and `signature`).
    public var publicKey: [UInt8]?
    public var salt: [UInt8]
    public var sequence: Int64?
    public var signature: [UInt8]?
    /// Compare-and-swap: store only if the current sequence number is this.
    public var cas: Int64?

    public init(token: ShortBytes, item: DHTItem, cas: Int64? = nil) {
        self.token = token
        self.value = item.value
        self.salt = []
        self.cas = cas
        if case .mutable(let mutable) = item {
            publicKey = mutable.publicKey
            salt = mutable.salt
            sequence = mutable.sequence
            signature = mutable.signature
        }
    }

    init(token: ShortBytes, value: [UInt8], publicKey: [UInt8]?, salt: [UInt8], sequence: Int64?, signature: [UInt8]?,
         cas: Int64?) {
        self.token = token
        self.value = value
        self.publicKey = publicKey
        self.salt = salt
        self.sequence = sequence
        self.signature = signature
        self.cas = cas
    }

    /// The item it carries (signature not checked).
    public var item: DHTItem {
        guard let publicKey, let sequence, let signature else { return .immutable(value: value) }
        return .mutable(MutableItem(publicKey: publicKey, salt: salt, sequence: sequence, value: value, signature: signature))
    }
}
