import Identity

/// Stateless SYN cookies for admission pings: the transaction ID of the ping
/// the router sends to a would-be contact is a keyed hash of the contact's
/// IP and port and of a secret that changes every `rotation`. A pong proves
/// that its sender saw our ping at that address (it echoes the cookie), and
/// checking it needs no table of pings in flight, so a flood of spoofed
/// queries costs the router no memory.
///
/// The secret of each epoch is derived from one master key, so every worker
/// thread computes the same cookies without sharing state. Cookies of the
/// current and the previous epoch are accepted: a cookie lives between one
/// and two rotations.
public struct AdmissionCookies: Sendable {
    /// Bytes of the transaction ID: 2^-64 per forged pong.
    public static let length = 8
    public let rotation: DHTDuration
    private let master: SipHash
    private var epoch: UInt64 = .max
    private var current = SipHash(key0: 0, key1: 0)
    private var previous = SipHash(key0: 0, key1: 0)

    public init(key0: UInt64, key1: UInt64, rotation: DHTDuration) {
        master = SipHash(key0: key0, key1: key1)
        self.rotation = DHTDuration(nanoseconds: max(1, rotation.nanoseconds))
    }

    /// The transaction ID to send to `address` now.
    public mutating func cookie(for address: NodeAddress, now: DHTInstant) -> UInt64 {
        advance(to: now)
        return Self.hash(address, with: current)
    }

    /// Whether `cookie` was issued to `address` in this epoch or the previous one.
    public func isValid(_ cookie: UInt64, for address: NodeAddress, now: DHTInstant) -> Bool {
        let nowEpoch = now.nanoseconds / rotation.nanoseconds
        let (current, previous) = nowEpoch == epoch ? (current, previous) : (secret(nowEpoch), secret(nowEpoch &- 1))
        return cookie == Self.hash(address, with: current) || cookie == Self.hash(address, with: previous)
    }

    private mutating func advance(to now: DHTInstant) {
        let nowEpoch = now.nanoseconds / rotation.nanoseconds
        guard nowEpoch != epoch else { return }
        current = secret(nowEpoch)
        previous = secret(nowEpoch &- 1)
        epoch = nowEpoch
    }

    private func secret(_ epoch: UInt64) -> SipHash {
        SipHash(key0: master.hash(epoch, 0, 0, count: 2), key1: master.hash(epoch, 1, 0, count: 2))
    }

    @inline(__always)
    private static func hash(_ address: NodeAddress, with secret: SipHash) -> UInt64 {
        switch address.ip {
        case .v4(let ip):
            return secret.hash(UInt64(ip) | UInt64(address.port) << 32 | 4 << 48, 0, 0, count: 1)
        case .v6(let high, let low):
            return secret.hash(high, low, UInt64(address.port) | 6 << 16, count: 3)
        }
    }
}
