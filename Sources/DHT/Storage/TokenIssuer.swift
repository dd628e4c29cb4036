import Crypto
import Identity

/// announce_peer tokens (BEP 5, DESIGN §3): HMAC-SHA1(secret, IP), truncated
/// to 8 bytes, with the secret rotated every 5 minutes and the previous one
/// still accepted, so a token lives 5–10 minutes. Eight bytes keep replies
/// small while leaving 2^64 guesses per rotation.
public struct TokenIssuer: Sendable {
    public static let tokenLength = 8
    public var rotationInterval: DHTDuration = .minutes(5)
    private var current: Secret
    private var previous: Secret
    private var rotatedAt: DHTInstant

    /// `secret` and `previousSecret` come from the caller's random source.
    public init(secret: [UInt8], previousSecret: [UInt8], now: DHTInstant) {
        current = Secret(secret)
        previous = Secret(previousSecret)
        rotatedAt = now
    }

    public func nextRotation() -> DHTInstant { rotatedAt + rotationInterval }

    /// Rotates when due; `newSecret` is only called then.
    public mutating func rotateIfDue(now: DHTInstant, newSecret: () -> [UInt8]) {
        guard now >= nextRotation() else { return }
        previous = current
        current = Secret(newSecret())
        rotatedAt = now
    }

    public func token(for ip: IPAddress) -> ShortBytes {
        Self.token(ip, key: current)
    }

    public func isValid(_ token: ShortBytes, for ip: IPAddress) -> Bool {
        token == Self.token(ip, key: current) || token == Self.token(ip, key: previous)
    }

    private static func token(_ ip: IPAddress, key: Secret) -> ShortBytes {
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: ip.bytes, using: key.key)
        return code.withUnsafeBytes { ShortBytes(UnsafeRawBufferPointer(rebasing: $0[0..<tokenLength]), 0..<tokenLength)! }
    }
}

/// A rotation secret, kept as a ready `SymmetricKey` (building one per token
/// showed up in get_peers throughput). SymmetricKey is an immutable value that
/// swift-crypto does not mark Sendable; nothing here ever mutates it.
private final class Secret: @unchecked Sendable {
    let key: SymmetricKey

    init(_ bytes: [UInt8]) {
        key = SymmetricKey(data: bytes)
    }
}
