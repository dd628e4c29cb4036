import BitFountain

/// qBittorrent's share limits (`torrents/setShareLimits`): -2 the global limit, -1 none, a
/// number from 0 up the torrent's own. This node limits the ratio; seeding-time limits
/// (`seedingTimeLimit`, `inactiveSeedingTimeLimit`) are accepted only as "global" or "none",
/// and refused otherwise rather than ignored.
enum QBShareLimit {
    static let global: Double = -2
    static let unlimited: Double = -1

    static func ratio(_ parameters: QBParameters) throws(QBRequestError) -> SeedRatioLimit {
        let text = try parameters.required("ratioLimit")
        guard let value = Double(text), value.isFinite else { throw .badParameter("ratioLimit", text) }
        switch value {
        case global: return .global
        case unlimited: return .unlimited
        case 0...: return .ratio(value)
        default: throw .badParameter("ratioLimit", text)
        }
    }

    static func refuseTimeLimits(_ parameters: QBParameters) throws(QBRequestError) {
        for name in ["seedingTimeLimit", "inactiveSeedingTimeLimit"] {
            guard let text = parameters[name], !text.isEmpty else { continue }
            guard let minutes = Int(text), minutes == Int(global) || minutes == Int(unlimited) else {
                throw .badParameter(name, "\(text) (seeding-time limits are not supported here: -2 or -1 only)")
            }
        }
    }
}
