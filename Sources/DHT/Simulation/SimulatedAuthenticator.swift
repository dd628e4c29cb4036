import Metainfo
import Crypto
import Identity

/// A stand-in for ed25519 in simulations of thousands of nodes, where real
/// signatures would dominate the run time. It has the same shape (32-byte
/// keys, 64-byte signatures, IDs derived from the key, a bad signature fails)
/// but anyone can forge it: never use it outside a simulation.
public struct SimulatedAuthenticator: NodeAuthenticator {
    public let publicKey: Ed25519.PublicKey

    public init(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        publicKey = Ed25519.PublicKey(bytes: random.bytes(Ed25519.publicKeyLength))!
    }

    public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        publicKey.bytes.withUnsafeBytes { Self.signature(message: message, key: $0) }
    }

    public func isValid(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> Bool {
        signature.count == Ed25519.signatureLength && Self.signature(message: message, key: key).elementsEqual(signature)
    }

    private static func signature(message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> [UInt8] {
        var first = SHA256()
        first.update(bufferPointer: key)
        first.update(bufferPointer: message)
        var second = SHA256()
        second.update(bufferPointer: message)
        second.update(bufferPointer: key)
        return Array(first.finalize()) + Array(second.finalize())
    }
}
