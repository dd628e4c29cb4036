/// When a torrent asks its `PeerDiscovery` for peers again (sans-I/O: it is
/// told what the last lookup left behind and answers with a delay).
///
/// - Downloading with no useful peer connected: soon, backing off gently
///   (5 s growing by half up to a minute). A lookup that returns only our own
///   announce or dead ports is no success; stock seeds announce 40–90 s after
///   they start, so a downloader started with them must keep looking.
/// - Downloading with a few useful peers (fewer than `enoughUsefulPeers`):
///   15 s, doubling up to `lookupInterval`. One seed found early is no swarm:
///   others announce seconds or minutes later (stock clients announce late),
///   and waiting the full interval would leave them unknown for minutes.
/// - Downloading with enough useful peers: every `lookupInterval`.
/// - Seeding: quicker first rounds (30 s doubling), so that downloaders that
///   only wait to be dialled (some clients never dial a DHT-found peer) are
///   found and dialled by us, as libtorrent's seeds do. With nobody connected a
///   seed keeps looking every `idleSeedingDelay`: a downloader's announce may
///   land minutes after it starts (a DHT that needs several confirmed nodes
///   first), and a seed backed off to the announce interval would leave it
///   waiting up to that long. With peers connected it backs off to the
///   announce interval.
struct LookupSchedule: Sendable {
    /// What the torrent looks like when the delay is chosen.
    enum State: Equatable, Sendable {
        case downloading(usefulPeers: Int)
        case seeding(connectedPeers: Int)
    }

    let lookupInterval: Double
    let announceInterval: Double
    static let firstHungryDelay: Double = 5
    static let maxHungryDelay: Double = 60
    static let firstSeedingDelay: Double = 30
    static let idleSeedingDelay: Double = 60
    static let firstSparseDelay: Double = 15
    static let enoughUsefulPeers = 4

    private var hungryDelay: Double
    private var sparseDelay: Double
    private var seedingDelay: Double

    init(lookupInterval: Double, announceInterval: Double) {
        self.lookupInterval = lookupInterval
        self.announceInterval = announceInterval
        hungryDelay = min(Self.firstHungryDelay, lookupInterval)
        sparseDelay = min(Self.firstSparseDelay, lookupInterval)
        seedingDelay = min(Self.firstSeedingDelay, announceInterval)
    }

    /// Seconds until the next lookup.
    mutating func delay(after state: State) -> Double {
        switch state {
        case .seeding(let connected):
            defer { seedingDelay = min(seedingDelay * 2, announceInterval) }
            return connected > 0 ? seedingDelay : min(seedingDelay, Self.idleSeedingDelay, announceInterval)
        case .downloading(let useful) where useful >= Self.enoughUsefulPeers:
            // Peers may leave; if they do, start again from the short delays.
            hungryDelay = min(Self.firstHungryDelay, lookupInterval)
            sparseDelay = min(Self.firstSparseDelay, lookupInterval)
            return lookupInterval
        case .downloading(let useful) where useful > 0:
            hungryDelay = min(Self.firstHungryDelay, lookupInterval)
            defer { sparseDelay = min(sparseDelay * 2, lookupInterval) }
            return sparseDelay
        case .downloading:
            sparseDelay = min(Self.firstSparseDelay, lookupInterval)
            defer { hungryDelay = min(hungryDelay * 1.5, Self.maxHungryDelay, lookupInterval) }
            return hungryDelay
        }
    }
}
