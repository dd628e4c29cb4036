import BitFountain

/// A seed ratio limit as Transmission shows it: a mode (0 the session's limit, 1 the torrent's
/// own, 2 none) and a ratio, which is remembered while another mode is in force (as
/// Transmission keeps it), so that turning the torrent's own limit back on restores it.
public struct TransmissionSeedRatio: Sendable, Equatable {
    public var mode: Int64
    public var ratio: Double

    /// Transmission's ratio for a torrent or a session that never had one set.
    public static let defaultRatio = 2.0

    public init(_ limit: SeedRatioLimit, remembered: Double?) {
        switch limit {
        case .global: (mode, ratio) = (0, remembered ?? Self.defaultRatio)
        case .ratio(let own): (mode, ratio) = (1, own)
        case .unlimited: (mode, ratio) = (2, remembered ?? Self.defaultRatio)
        }
    }

    /// What the session is to enforce.
    public var limit: SeedRatioLimit {
        switch mode {
        case 1: .ratio(ratio)
        case 2: .unlimited
        default: .global
        }
    }
}
