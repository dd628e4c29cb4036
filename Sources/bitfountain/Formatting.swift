import Foundation

/// Human-readable numbers for terminal output.
enum Format {
    /// 1536 → "1.5 KiB"; binary units, as file managers and torrent clients show sizes.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: value >= 100 ? "%.0f %@" : "%.1f %@", value, units[unit])
    }

    /// Transfer rates in decimal megabytes per second, as benchmarks quote them.
    static func rate(_ bytesPerSecond: Double) -> String {
        if bytesPerSecond >= 1e9 { return String(format: "%.2f GB/s", bytesPerSecond / 1e9) }
        if bytesPerSecond >= 1e6 { return String(format: "%.1f MB/s", bytesPerSecond / 1e6) }
        return String(format: "%.0f kB/s", bytesPerSecond / 1e3)
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        let whole = Int(seconds.rounded())
        if whole >= 3600 { return "\(whole / 3600)h\(String(format: "%02d", whole / 60 % 60))m" }
        if whole >= 60 { return "\(whole / 60)m\(String(format: "%02d", whole % 60))s" }
        return "\(whole)s"
    }

    /// Parses sizes like "262144", "256K", "256KiB", "4M", "1G".
    static func parseSize(_ text: String) -> Int? {
        let lowered = text.lowercased().replacingOccurrences(of: "ib", with: "").replacingOccurrences(of: "b", with: "")
        let multipliers: [Character: Int] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        if let last = lowered.last, let multiplier = multipliers[last] {
            guard let number = Int(lowered.dropLast()), number >= 0 else { return nil }
            return number.multipliedReportingOverflow(by: multiplier).overflow ? nil : number * multiplier
        }
        return Int(lowered)
    }
}
