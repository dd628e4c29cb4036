import NIOCore

/// Slows down password guessing, per client address: the first
/// `freeFailures` wrong passwords cost nothing, each one after that locks the
/// address out for twice as long as the one before, up to `maxLockout`. A
/// correct password resets the address. Sans-I/O: the caller passes `now`.
public struct LoginThrottle: Sendable {
    public var freeFailures = 3
    public var firstLockout: TimeAmount = .seconds(1)
    public var maxLockout: TimeAmount = .seconds(60)
    /// Addresses kept at most; the oldest entry goes first, so a flood of
    /// addresses cannot grow memory without bound.
    public var capacity = 4096

    private struct Record: Sendable {
        var failures: Int
        var lockedUntil: NIODeadline
        var lastSeen: NIODeadline
    }

    private var records: [String: Record] = [:]

    public init() {}

    /// nil when `address` may try now, else how long it must wait.
    public func retryAfter(address: String, now: NIODeadline) -> TimeAmount? {
        guard let record = records[address], record.lockedUntil > now else { return nil }
        return record.lockedUntil - now
    }

    public mutating func recordFailure(address: String, now: NIODeadline) {
        var record = records[address] ?? Record(failures: 0, lockedUntil: now, lastSeen: now)
        record.failures += 1
        record.lastSeen = now
        let excess = record.failures - freeFailures
        if excess > 0 {
            let factor = Int64(1) << Int64(min(excess - 1, 20))
            let lockout = TimeAmount.nanoseconds(min(firstLockout.nanoseconds * factor, maxLockout.nanoseconds))
            record.lockedUntil = now + lockout
        }
        if records[address] == nil && records.count >= capacity, let oldest = records.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
            records[oldest.key] = nil
        }
        records[address] = record
    }

    public mutating func recordSuccess(address: String) {
        records[address] = nil
    }
}
