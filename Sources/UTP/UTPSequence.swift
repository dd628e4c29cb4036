/// 16-bit sequence-number arithmetic with wraparound: BEP 29 counts packets modulo 2^16, so
/// "before" and "after" are judged by the shorter way round the circle.
enum UTPSequence {
    /// Signed distance from `from` to `to` (positive when `to` is after `from`), in -32768...32767.
    @inline(__always)
    static func distance(from: UInt16, to: UInt16) -> Int {
        Int(Int16(bitPattern: to &- from))
    }

    /// Whether `a` comes strictly before `b`.
    @inline(__always)
    static func isBefore(_ a: UInt16, _ b: UInt16) -> Bool {
        distance(from: a, to: b) > 0
    }
}

/// Microsecond timestamps as BEP 29 puts them on the wire: the low 32 bits of a monotonic
/// clock. Only differences between them mean anything.
enum UTPTimestamp {
    static func microseconds(_ instant: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: instant / 1_000)
    }
}
