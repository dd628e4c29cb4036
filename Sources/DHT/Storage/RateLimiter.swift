import Identity

/// Per-IP token buckets in a fixed-size table: state stays bounded however
/// many addresses send to us. Addresses hash (with a secret key, so nobody can
/// aim at a slot) into `slotCount` slots; an address that lands on a slot held
/// by another takes it over with a full bucket, which at worst lets a few extra
/// packets through and never blocks an innocent sender for long.
public struct RateLimiter: Sendable {
    private struct Slot {
        var tag: UInt64 = 0
        var tokens: Double = 0
        var updated: DHTInstant = .zero
    }

    public let perSecond: Double
    public let burst: Double
    private let key: UInt64
    private var slots: [Slot]

    public init(perSecond: Double, burst: Double, slotCount: Int = 4_096, key: UInt64) {
        self.perSecond = perSecond
        self.burst = burst
        self.key = key
        slots = Array(repeating: Slot(), count: max(1, slotCount))
    }

    /// Whether a packet from `ip` may be processed now (and charges for it).
    public mutating func allow(_ ip: IPAddress, now: DHTInstant) -> Bool {
        let tag = hash(ip) | 1
        let index = Int(truncatingIfNeeded: (tag >> 1) % UInt64(slots.count))
        if slots[index].tag != tag {
            slots[index] = Slot(tag: tag, tokens: burst, updated: now)
        } else {
            let elapsed = now.since(slots[index].updated).seconds
            slots[index].tokens = min(burst, slots[index].tokens + elapsed * perSecond)
            slots[index].updated = now
        }
        guard slots[index].tokens >= 1 else { return false }
        slots[index].tokens -= 1
        return true
    }

    private func hash(_ ip: IPAddress) -> UInt64 {
        switch ip {
        case .v4(let value): return mix(UInt64(value) ^ key)
        case .v6(let high, let low): return mix(mix(high ^ key) ^ low)
        }
    }

    /// A 64-bit finaliser (splitmix64's): every input bit affects every output bit.
    private func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
