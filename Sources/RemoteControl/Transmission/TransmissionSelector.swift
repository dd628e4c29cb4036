/// Which torrents a Transmission request names in `ids`: absent means all of
/// them; a number, a 40-hex info hash, a list of those, or "recently-active".
public enum TransmissionSelector: Sendable, Equatable {
    case all
    case recentlyActive
    case some([TransmissionTorrentRef])

    public static func parse(_ value: JSONValue?) throws(TransmissionRPCError) -> TransmissionSelector {
        guard let value else { return .all }
        switch value {
        case .string("recently-active"):
            return .recentlyActive
        case .array(let items):
            var refs: [TransmissionTorrentRef] = []
            for item in items { refs.append(try TransmissionTorrentRef.parse(item)) }
            return .some(refs)
        default:
            return .some([try TransmissionTorrentRef.parse(value)])
        }
    }

    /// Whether a torrent with this id and hash is selected (`recentlyActive` is decided by the caller).
    public func matches(id: Int, hashString: String) -> Bool {
        switch self {
        case .all, .recentlyActive: return true
        case .some(let refs): return refs.contains { $0.matches(id: id, hashString: hashString) }
        }
    }
}

public enum TransmissionTorrentRef: Sendable, Equatable {
    case id(Int)
    case hash(String)

    static func parse(_ value: JSONValue) throws(TransmissionRPCError) -> TransmissionTorrentRef {
        if let number = value.intValue, value.stringValue == nil || Int64(value.stringValue ?? "") != nil,
           number >= 0, number <= Int64(Int32.max) {
            return .id(Int(number))
        }
        if let text = value.stringValue {
            let lower = text.lowercased()
            if lower.count == 40, lower.allSatisfy(\.isHexDigit) { return .hash(lower) }
        }
        throw .invalidArgument("ids", "each id must be a torrent number or a 40-character info hash")
    }

    func matches(id: Int, hashString: String) -> Bool {
        switch self {
        case .id(let wanted): return wanted == id
        case .hash(let wanted): return wanted == hashString.lowercased()
        }
    }
}
