import NIOCore

/// Connections that finished cleanly, remembered for a while after they close (TCP's
/// TIME_WAIT). The side that acknowledges the last FIN closes at once, but that ACK can be
/// lost; the peer then resends its FIN. Forgotten, the connection would answer it with
/// ST_RESET, and a transfer that completed would end as "reset" on the other side. Remembered,
/// the FIN (or any data it already took) is acknowledged again and nothing else is sent.
///
/// Bounded: at most `capacity` entries, the oldest dropped first; every entry lives
/// `duration`, so entries are ordered by expiry and expire from the front.
struct UTPTimeWait<Key: Hashable & Sendable>: Sendable {
    /// What a closed connection needs to acknowledge again.
    struct Entry: Sendable, Equatable {
        /// The connection ID we put in packets to the peer.
        var sendConnectionID: UInt16
        /// The sequence number our next packet would have carried.
        var sequenceNumber: UInt16
        /// The peer's FIN: the last sequence number we acknowledged.
        var ackNumber: UInt16
        var window: UInt32
    }

    let capacity: Int
    let duration: UInt64
    private var entries: [Key: (entry: Entry, expiresAt: UInt64)] = [:]
    /// Keys in the order they were remembered, which is also expiry order.
    private var order = CircularBuffer<(key: Key, expiresAt: UInt64)>()

    init(capacity: Int, duration: TimeAmount) {
        self.capacity = max(0, capacity)
        self.duration = UInt64(max(0, duration.nanoseconds))
    }

    var count: Int { entries.count }

    func contains(_ key: Key) -> Bool { entries[key] != nil }

    mutating func remember(_ key: Key, _ entry: Entry, now: UInt64) {
        guard capacity > 0 else { return }
        expire(now: now)
        while entries.count >= capacity, let oldest = order.popFirst() {
            // A key remembered again has a stale, earlier slot in `order`: drop only the live one.
            if entries[oldest.key]?.expiresAt == oldest.expiresAt { entries[oldest.key] = nil }
        }
        let expiresAt = now &+ duration
        entries[key] = (entry, expiresAt)
        order.append((key, expiresAt))
        // A key remembered again leaves a stale slot behind; a peer reusing one connection ID
        // must not grow `order` past its bound, so stale slots are swept out now and then.
        if order.count > 2 * capacity {
            order = CircularBuffer(order.filter { entries[$0.key]?.expiresAt == $0.expiresAt })
        }
    }

    /// Forgets `key` (a new connection takes it).
    mutating func forget(_ key: Key) { entries[key] = nil }

    /// What to do with a packet for a connection that has no live state.
    enum Answer: Equatable, Sendable {
        /// `key` is not lingering: the packet is a stranger's.
        case notLingering
        /// Lingering, and the packet asks for nothing: drop it silently.
        case drop
        /// Lingering, and the packet is something we already took: acknowledge it again.
        case acknowledge(UTPHeader)
    }

    /// The answer owed to `header`, which arrived for `key`.
    mutating func answer(_ header: UTPHeader, for key: Key, now: UInt64) -> Answer {
        expire(now: now)
        guard let entry = entries[key]?.entry else { return .notLingering }
        // Only what we already took is acknowledged again: the FIN itself, or data before it
        // whose ACK was lost too. Anything else is not ours to judge; a lingering connection
        // sends no RESET, so it never undoes a close the peer may still complete.
        guard header.type == .fin || header.type == .data,
              UTPSequence.distance(from: header.sequenceNumber, to: entry.ackNumber) >= 0
        else { return .drop }
        return .acknowledge(UTPHeader(
            type: .state, connectionID: entry.sendConnectionID, timestampMicroseconds: UTPTimestamp.microseconds(now),
            timestampDifferenceMicroseconds: 0, windowSize: entry.window,
            sequenceNumber: entry.sequenceNumber, ackNumber: entry.ackNumber))
    }

    private mutating func expire(now: UInt64) {
        while let first = order.first, first.expiresAt <= now {
            order.removeFirst()
            if entries[first.key]?.expiresAt == first.expiresAt { entries[first.key] = nil }
        }
    }
}
