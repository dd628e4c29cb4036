/// A transfer rate smoothed over a few seconds. Bytes are counted as they
/// happen; `sample(now:)` (called on every tick) folds them into the average.
public struct RateMeter: Sendable {
    public private(set) var total: Int64 = 0
    public private(set) var bytesPerSecond: Double = 0
    private var pending: Int64 = 0
    private var lastSample: Double?
    /// Weight of the newest second: 0.4 reacts within ~3 s yet rides out bursts.
    private let weight = 0.4

    public init() {}

    /// A meter whose first interval starts now, so the first tick already gives a rate.
    public init(startingAt now: Double) {
        lastSample = now
    }

    public mutating func add(_ bytes: Int) {
        total += Int64(bytes)
        pending += Int64(bytes)
    }

    public mutating func sample(now: Double) {
        guard let last = lastSample else {
            lastSample = now
            return
        }
        let elapsed = now - last
        guard elapsed > 0.05 else { return }
        let instant = Double(pending) / elapsed
        // The first real sample replaces the zero start, so pipelines grow at once.
        bytesPerSecond = bytesPerSecond == 0 ? instant : bytesPerSecond * (1 - weight) + instant * weight
        pending = 0
        lastSample = now
    }
}
