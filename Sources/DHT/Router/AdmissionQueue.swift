import Identity

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
