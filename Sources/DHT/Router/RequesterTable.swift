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
