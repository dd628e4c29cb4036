import BigInt

/// The constants and bounds of MSE/PE (message stream encryption, also called
/// protocol encryption), as its specification fixes them.
public enum MSE {
    /// The 768-bit prime of the Diffie-Hellman exchange; the generator is 2.
    static let prime = BigUInt(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
            + "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563",
        radix: 16)!
    static let generator = BigUInt(2)

    /// Public keys and the shared secret S travel as 96-byte big-endian numbers.
    public static let keyLength = 96
    /// The spec suggests 160-bit private keys: more adds time, not strength.
    public static let privateKeyLength = 20
    /// PadA, PadB, PadC and PadD are each at most 512 bytes.
    public static let maxPadding = 512
    /// The verification constant: eight zero bytes, encrypted.
    static let verificationConstant = [UInt8](repeating: 0, count: 8)
    /// RC4 keystream bytes thrown away after keying (the spec's 1024).
    static let discardedKeystream = 1024
    /// IA, the initiator's first payload, rides in step 3. Every client we know
    /// puts its 68-byte BitTorrent handshake there; 16 KiB leaves room for an
    /// extension handshake and a large bitfield and still bounds what a
    /// stranger can make us buffer before it has proved anything.
    public static let maxInitialPayload = 16 << 10

    /// The responder looks for HASH('req1', S) at most this far past Ya
    /// (PadA, then the 20-byte hash).
    static let req1SyncWindow = maxPadding + 20
    /// The initiator looks for ENCRYPT(VC) at most this far past Yb (PadB, then VC).
    static let vcSyncWindow = maxPadding + verificationConstant.count
}

/// What the two sides negotiate in `crypto_provide` / `crypto_select`.
public struct MSECryptoMethods: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The payload after the handshake travels unencrypted (only the handshake is obfuscated).
    public static let plaintext = MSECryptoMethods(rawValue: 0x01)
    /// The payload is RC4-encrypted for the whole connection.
    public static let rc4 = MSECryptoMethods(rawValue: 0x02)

    public var description: String {
        switch self {
        case .plaintext: return "plaintext"
        case .rc4: return "rc4"
        case [.plaintext, .rc4]: return "plaintext|rc4"
        default: return "0x" + String(rawValue, radix: 16)
        }
    }
}

/// Ways an MSE handshake fails. Each one ends the connection.
public enum MSEError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The peer's public key is 0, 1, P−1 or not below P: no secret could come of it.
    case invalidPublicKey
    /// The synchronisation pattern did not appear within the bytes the spec allows.
    case noSynchronization(pattern: String, window: Int)
    /// HASH('req2', SKEY) matches none of the torrents we serve.
    case unknownInfoHash
    /// The decrypted verification constant is not eight zero bytes.
    case badVerificationConstant
    case paddingTooLong(Int)
    case initialPayloadTooLong(Int)
    /// The initiator offered nothing we accept under our policy.
    case noCommonMethod(offered: MSECryptoMethods, accepted: MSECryptoMethods)
    /// The responder selected something other than one method we offered.
    case invalidSelection(selected: MSECryptoMethods, offered: MSECryptoMethods)

    public var description: String {
        switch self {
        case .invalidPublicKey: return "MSE: invalid Diffie-Hellman public key"
        case .noSynchronization(let pattern, let window): return "MSE: no \(pattern) within \(window) bytes"
        case .unknownInfoHash: return "MSE: the peer asks for a torrent we do not serve (unknown SKEY)"
        case .badVerificationConstant: return "MSE: bad verification constant"
        case .paddingTooLong(let length): return "MSE: padding of \(length) bytes (at most \(MSE.maxPadding))"
        case .initialPayloadTooLong(let length):
            return "MSE: initial payload of \(length) bytes (at most \(MSE.maxInitialPayload))"
        case .noCommonMethod(let offered, let accepted):
            return "MSE: the peer offers \(offered), we accept \(accepted)"
        case .invalidSelection(let selected, let offered): return "MSE: the peer selected \(selected) of \(offered)"
        }
    }
}
