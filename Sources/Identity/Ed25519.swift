import CSodium

/// libsodium must be initialised once before use; a global `let` is initialised
/// lazily and exactly once, even with many threads racing for it.
private let sodiumReady: Bool = sodium_init() >= 0

/// Ed25519 keys and signatures (RFC 8032) through libsodium.
public enum Ed25519 {
    public static let publicKeyLength = Int(crypto_sign_PUBLICKEYBYTES)
    public static let signatureLength = Int(crypto_sign_BYTES)
    public static let seedLength = Int(crypto_sign_SEEDBYTES)

    /// A 32-byte public key.
    public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
        public let bytes: [UInt8]

        public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
            guard bytes.count == Ed25519.publicKeyLength else { return nil }
            self.bytes = Array(bytes)
        }

        public var description: String { HexDigits.encode(bytes) }
    }

    /// A private key, kept as its 32-byte seed (what the key file stores) and
    /// libsodium's expanded 64-byte form.
    public struct SigningKey: Sendable {
        public let seed: [UInt8]
        public let publicKey: PublicKey
        fileprivate let expanded: [UInt8]

        /// Derives the key pair from a 32-byte seed.
        public init?(seed: [UInt8]) {
            precondition(sodiumReady, "libsodium failed to initialise")
            guard seed.count == Ed25519.seedLength else { return nil }
            var publicBytes = [UInt8](repeating: 0, count: Ed25519.publicKeyLength)
            var secret = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
            guard crypto_sign_seed_keypair(&publicBytes, &secret, seed) == 0 else { return nil }
            self.seed = seed
            self.expanded = secret
            self.publicKey = PublicKey(bytes: publicBytes)!
        }

        /// A new key from the operating system's random source.
        public static func generate() -> SigningKey {
            SigningKey(seed: SecureRandom.bytes(Ed25519.seedLength))!
        }

        /// The 64-byte detached signature of `message`.
        public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureLength)
            withMessagePointer(message) { pointer in
                expanded.withUnsafeBufferPointer { secret in
                    _ = crypto_sign_detached(&signature, nil, pointer, UInt64(message.count), secret.baseAddress!)
                }
            }
            return signature
        }

        public func sign(_ message: [UInt8]) -> [UInt8] {
            message.withUnsafeBytes { sign($0) }
        }
    }

    /// Checks a detached signature. Wrong lengths are simply invalid.
    public static func isValid(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                               publicKey: UnsafeRawBufferPointer) -> Bool {
        precondition(sodiumReady, "libsodium failed to initialise")
        guard signature.count == signatureLength, publicKey.count == publicKeyLength else { return false }
        return withMessagePointer(message) { pointer in
            crypto_sign_verify_detached(signature.baseAddress!.assumingMemoryBound(to: UInt8.self), pointer,
                                        UInt64(message.count),
                                        publicKey.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
        }
    }

    public static func isValid(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        signature.withUnsafeBytes { sig in
            message.withUnsafeBytes { msg in publicKey.withUnsafeBytes { isValid(signature: sig, message: msg, publicKey: $0) } }
        }
    }
}

/// libsodium wants a valid pointer even for an empty message.
private func withMessagePointer<T>(_ message: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> T) -> T {
    if let base = message.baseAddress { return body(base.assumingMemoryBound(to: UInt8.self)) }
    var empty: UInt8 = 0
    return withUnsafePointer(to: &empty) { body($0) }
}

/// Cryptographically secure random bytes (libsodium's `randombytes_buf`).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(sodiumReady, "libsodium failed to initialise")
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return out
    }

    public static func uint64() -> UInt64 {
        bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
