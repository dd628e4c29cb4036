/// When a complete torrent stops seeding, by its share ratio (uploaded over downloaded, or over
/// its size when it was never downloaded): at the session's limit (`SessionSettings
/// .seedRatioLimit`), at a limit of its own, or never. What Transmission calls the seed ratio
/// mode and qBittorrent the share limit.
public enum SeedRatioLimit: Sendable, Equatable, Codable {
    case global
    case unlimited
    case ratio(Double)

    /// The ratio at which a torrent with this setting stops, given the session's.
    public func effective(global: Double?) -> Double? {
        switch self {
        case .global: global
        case .unlimited: nil
        case .ratio(let limit): limit
        }
    }
}
