/// A point on the monotonic clock the node is driven with, in nanoseconds from
/// an arbitrary origin. The core never reads a clock: every call passes `now`,
/// so a simulation can run thousands of nodes on virtual time.
public struct DHTInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    public static let zero = DHTInstant(nanoseconds: 0)

    public static func seconds(_ value: Double) -> DHTInstant { DHTInstant(nanoseconds: UInt64(value * 1e9)) }

    public static func < (lhs: DHTInstant, rhs: DHTInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: DHTInstant, rhs: DHTDuration) -> DHTInstant {
        DHTInstant(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    public func since(_ earlier: DHTInstant) -> DHTDuration {
        DHTDuration(nanoseconds: nanoseconds >= earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0)
    }

    public var description: String { "t+\(Double(nanoseconds) / 1e9)s" }
}

/// A span of time on the node's clock.
public struct DHTDuration: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    public static func seconds(_ value: Double) -> DHTDuration { DHTDuration(nanoseconds: UInt64(max(0, value) * 1e9)) }
    public static func milliseconds(_ value: Double) -> DHTDuration { .seconds(value / 1_000) }
    public static func minutes(_ value: Double) -> DHTDuration { .seconds(value * 60) }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var milliseconds: Double { Double(nanoseconds) / 1e6 }

    public static func < (lhs: DHTDuration, rhs: DHTDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    public static func * (lhs: DHTDuration, rhs: Double) -> DHTDuration { .seconds(lhs.seconds * rhs) }

    public var description: String { "\(seconds)s" }
}
