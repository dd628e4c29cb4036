/// When a complete torrent stops seeding, by its share ratio (uploaded over downloaded, or over
/// its size when it was never downloaded): at the session's limit (`SessionSettings
/// .seedRatioLimit`), at a limit of its own, or never. What Transmission calls the seed ratio
/// mode and qBittorrent the share limit.
public enum SeedRatioLimit: Sendable, Equatable, Codable {
    case global
    case unlimited
    case ratio(Double)

    /// Stored as a number (its own ratio) or the text "global" or "unlimited", so that a
    /// torrent's record stays readable.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let ratio = try? container.decode(Double.self) {
            self = .ratio(ratio)
            return
        }
        switch try container.decode(String.self) {
        case "global": self = .global
        case "unlimited": self = .unlimited
        case let other:
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a seed ratio limit: \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .global: try container.encode("global")
        case .unlimited: try container.encode("unlimited")
        case .ratio(let ratio): try container.encode(ratio)
        }
    }

    /// The ratio at which a torrent with this setting stops, given the session's.
    public func effective(global: Double?) -> Double? {
        switch self {
        case .global: global
        case .unlimited: nil
        case .ratio(let limit): limit
        }
    }
}
