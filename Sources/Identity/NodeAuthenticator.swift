/// Signs what a node sends and checks what others signed.
///
/// The DHT core takes one of these instead of calling libsodium directly, so
/// that a simulation of thousands of nodes can swap in a cheap stand-in while
/// real nodes use `Ed25519Authenticator`.
public protocol NodeAuthenticator: Sendable {
    /// Our 32-byte public key, sent as `k`.
    var publicKey: Ed25519.PublicKey { get }
    /// The 64-byte signature of `message` with our key.
    func sign(_ message: UnsafeRawBufferPointer) -> [UInt8]
    /// Whether `signature` is `key`'s signature of `message`.
    func isValid(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> Bool
}

/// The real thing: ed25519 through libsodium.
public struct Ed25519Authenticator: NodeAuthenticator {
    public let key: Ed25519.SigningKey

    public init(key: Ed25519.SigningKey) {
        self.key = key
    }

    public var publicKey: Ed25519.PublicKey { key.publicKey }

    public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] { key.sign(message) }

    public func isValid(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> Bool {
        Ed25519.isValid(signature: signature, message: message, publicKey: key)
    }
}
