import Identity

/// Who has queried the router lately, in a fixed-size table (state stays
/// bounded however many addresses write to us). It answers two questions per
/// query: was this requester seen in the last `recentWindow` (then it gets a
/// short reply: it has bootstrapped already), and is an admission ping due
/// for it (at most one per `requeueInterval`). Addresses hash with a secret
/// key into slots; a newcomer takes over a slot, which at worst makes the
/// previous holder look new again.
public struct RequesterTable: Sendable {
    private struct Slot {
        var tag: UInt32 = 0
        var lastQuery: UInt32 = 0
        var pingQueued: UInt32 = 0
    }

    public struct Sighting: Sendable, Equatable {
        /// Queried within the recent window before this query.
        public var recent: Bool
        /// No admission ping was queued for it within the requeue interval.
        public var pingDue: Bool
    }

    private var slots: [Slot]
    private let mask: Int
    private let hasher: SipHash
    private let recentWindow: UInt32
    private let requeueInterval: UInt32

    public init(slotCount: Int, recentWindow: DHTDuration, requeueInterval: DHTDuration, hashKey: (UInt64, UInt64)) {
        var size = 16
        while size < slotCount { size <<= 1 }
        slots = Array(repeating: Slot(), count: size)
        mask = size - 1
        hasher = SipHash(key0: hashKey.0, key1: hashKey.1)
        self.recentWindow = UInt32(clamping: recentWindow.nanoseconds / 1_000_000_000)
        self.requeueInterval = UInt32(clamping: requeueInterval.nanoseconds / 1_000_000_000)
    }

    public var slotCount: Int { slots.count }

    /// Records a query from `address` at `seconds` (Unix time).
    @inline(__always)
    public mutating func note(_ address: NodeAddress, seconds: UInt32) -> Sighting {
        let hash = RouterKeys.hash(address, with: hasher)
        let index = Int(truncatingIfNeeded: hash) & mask
        let tag = UInt32(truncatingIfNeeded: hash >> 32) | 1
        return slots.withUnsafeMutableBufferPointer { slots in
            if slots[index].tag != tag {
                slots[index] = Slot(tag: tag, lastQuery: seconds, pingQueued: seconds)
                return Sighting(recent: false, pingDue: true)
            }
            let recent = seconds &- slots[index].lastQuery < recentWindow
            slots[index].lastQuery = seconds
            guard seconds &- slots[index].pingQueued >= requeueInterval else { return Sighting(recent: recent, pingDue: false) }
            slots[index].pingQueued = seconds
            return Sighting(recent: recent, pingDue: true)
        }
    }
}

/// How the router tells requesters apart: by IP for public addresses (by /64
/// for IPv6), by IP and port for local ones (only served with
/// `--allow-private`, where many nodes share one test host). The ring, the
/// requester table and the rate limiter agree on this.
enum RouterKeys {
    @inline(__always)
    static func hash(_ address: NodeAddress, with hasher: SipHash) -> UInt64 {
        switch address.ip {
        case .v4(let value):
            return hasher.hash(UInt64(value) | (address.ip.isLocal ? UInt64(address.port) << 32 | 1 << 48 : 0), 0, 0, count: 1)
        case .v6(let high, let low):
            return address.ip.isLocal ? hasher.hash(high, low, UInt64(address.port) | 1 << 16) : hasher.hash(high, 0, 0, count: 1)
        }
    }

    /// The address the per-IP rate limiter charges: the IP, or for local
    /// addresses a value that also carries the port.
    @inline(__always)
    static func limiterKey(_ address: NodeAddress) -> IPAddress {
        guard address.ip.isLocal else {
            if case .v6(let high, _) = address.ip { return .v6(high, 0) }
            return address.ip
        }
        switch address.ip {
        case .v4(let value): return .v6(0xFFFF_FFFF_0000_0000 | UInt64(address.port) << 16, UInt64(value))
        case .v6(let high, let low): return .v6(high ^ UInt64(address.port) << 48, low)
        }
    }
}

/// Admission pings waiting for their time: a FIFO of fixed capacity (the
/// delay is the same for everyone, so FIFO order is due order). When full,
/// newcomers are turned away and counted.
public struct AdmissionQueue: Sendable {
    private struct Pending {
        var address: NodeAddress
        var due: DHTInstant
    }

    private var entries: [Pending]
    private var head = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        entries = Array(repeating: Pending(address: NodeAddress(ip: .v4(0), port: 0), due: .zero), count: max(1, capacity))
    }

    public var capacity: Int { entries.count }

    /// False when the queue is full.
    @inline(__always)
    public mutating func push(_ address: NodeAddress, due: DHTInstant) -> Bool {
        guard count < entries.count else { return false }
        var tail = head + count
        if tail >= entries.count { tail -= entries.count }
        entries[tail] = Pending(address: address, due: due)
        count += 1
        return true
    }

    /// The oldest entry if it is due at `now`, removed from the queue.
    public mutating func popDue(now: DHTInstant) -> NodeAddress? {
        guard count > 0, entries[head].due <= now else { return nil }
        let address = entries[head].address
        head = head + 1 == entries.count ? 0 : head + 1
        count -= 1
        return address
    }

    /// When the oldest entry is due.
    public var nextDue: DHTInstant? { count > 0 ? entries[head].due : nil }
}
