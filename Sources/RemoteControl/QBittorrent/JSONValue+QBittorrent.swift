import Foundation

/// What the qBittorrent dialect adds to the shared `JSONValue`: torrents and the server state
/// are kept as maps of field name to value so that `sync/maindata` can send exactly the fields
/// that changed (qBittorrent's partial updates are per field, not per object).
extension JSONValue {
    /// Compact JSON with sorted keys (stable output for tests and caches), by
    /// `JSONWriter`: the web UI's first `sync/maindata` lists every torrent.
    public func encoded() -> Data {
        Data(jsonBytes(sortedKeys: true))
    }

    public var encodedString: String { String(decoding: encoded(), as: UTF8.self) }
}

extension JSONValue {
    /// Orders values the way qBittorrent's `sort=` does: numbers numerically, strings
    /// case-insensitively, booleans false first; mixed kinds by kind so the order is total.
    static func ascending(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return a < b
        case (.string(let a), .string(let b)):
            let order = a.localizedStandardCompare(b)
            return order == .orderedSame ? a < b : order == .orderedAscending
        case (.bool(let a), .bool(let b)): return !a && b
        default:
            if let a = lhs.number, let b = rhs.number { return a < b }
            return lhs.kindRank < rhs.kindRank
        }
    }

    private var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    private var kindRank: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .int, .double: 2
        case .string: 3
        case .array: 4
        case .object: 5
        }
    }
}

extension Int64 {
    /// A rate, count or duration from the engine's `Double`s as a JSON integer: rounded toward
    /// zero, negative and non-finite values as 0, huge ones clamped (a plain `Int64(_:)` traps).
    init(metric value: Double) {
        guard value.isFinite, value > 0 else {
            self = 0
            return
        }
        self = value >= 9.2e18 ? .max : Int64(value)
    }
}
