import BigInt
import Crypto
import Foundation
import Metainfo

/// One side's Diffie-Hellman key pair for MSE, and what follows from the
/// shared secret: the hashes the handshake sends and the two RC4 keys.
/// The private key is injected (sans-I/O: tests pass fixed keys, the node passes random ones).
public struct MSEKeyExchange: Sendable {
    private let privateKey: BigUInt
    /// Y = G^X mod P, as 96 big-endian bytes.
    public let publicKey: [UInt8]

    /// `privateKey` is the spec's 160 random bits (any length up to 96 bytes works).
    public init(privateKey: [UInt8]) {
        precondition(!privateKey.isEmpty && privateKey.count <= MSE.keyLength)
        self.privateKey = BigUInt(Data(privateKey))
        publicKey = MSEKeyExchange.fixedWidth(MSE.generator.power(self.privateKey, modulus: MSE.prime))
    }

    /// A key pair with a fresh random private key.
    public static func random() -> MSEKeyExchange {
        var generator = SystemRandomNumberGenerator()
        return MSEKeyExchange(privateKey: (0..<MSE.privateKeyLength).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// S = Y_peer^X mod P, as 96 big-endian bytes. Rejects the degenerate keys
    /// (0, 1, P−1, ≥ P) that would make S predictable.
    public func sharedSecret(peerPublicKey: [UInt8]) throws(MSEError) -> [UInt8] {
        let peer = BigUInt(Data(peerPublicKey))
        guard peer > 1, peer < MSE.prime - 1 else { throw .invalidPublicKey }
        return MSEKeyExchange.fixedWidth(peer.power(privateKey, modulus: MSE.prime))
    }

    static func fixedWidth(_ value: BigUInt) -> [UInt8] {
        let bytes = [UInt8](value.serialize())
        return [UInt8](repeating: 0, count: MSE.keyLength - bytes.count) + bytes
    }
}

/// The hashes and keys of the spec, each `HASH(label, …)` = SHA-1 of the concatenation.
public enum MSEHashes {
    static func hash(_ label: String, _ parts: [UInt8]...) -> [UInt8] {
        var sha = Insecure.SHA1()
        sha.update(data: Array(label.utf8))
        for part in parts { sha.update(data: part) }
        return Array(sha.finalize())
    }

    /// HASH('req1', S): the responder synchronises on it.
    public static func req1(secret: [UInt8]) -> [UInt8] { hash("req1", secret) }

    /// HASH('req2', SKEY): what names the torrent, without revealing it.
    public static func req2(infoHash: InfoHash) -> [UInt8] { hash("req2", infoHash.bytes) }

    /// HASH('req3', S): masks req2 so that an observer cannot match it to a torrent.
    public static func req3(secret: [UInt8]) -> [UInt8] { hash("req3", secret) }

    /// The initiator's (A's) sending key, HASH('keyA', S, SKEY); the responder decrypts with it.
    public static func keyA(secret: [UInt8], infoHash: InfoHash) -> [UInt8] { hash("keyA", secret, infoHash.bytes) }

    /// The responder's (B's) sending key, HASH('keyB', S, SKEY).
    public static func keyB(secret: [UInt8], infoHash: InfoHash) -> [UInt8] { hash("keyB", secret, infoHash.bytes) }

    /// The two RC4 streams of a connection, 1024 bytes discarded from each.
    static func ciphers(secret: [UInt8], infoHash: InfoHash, initiator: Bool)
        -> (outgoing: RC4, incoming: RC4) {
        let a = RC4(key: keyA(secret: secret, infoHash: infoHash), discard: MSE.discardedKeystream)
        let b = RC4(key: keyB(secret: secret, infoHash: infoHash), discard: MSE.discardedKeystream)
        return initiator ? (a, b) : (b, a)
    }
}
