import Identity
import Metainfo

/// The sans-I/O core of Local Service Discovery (BEP 14): decides when each
/// torrent is announced on the LAN and which received announces become peers.
/// It takes events and the time (`now`, monotonic seconds) and answers with
/// what to send or whom to dial; the NIO layer (`LocalServiceDiscovery`) owns
/// the sockets and the clock.
///
/// - Each torrent is announced as soon as it is added, then every
///   `announceInterval` (5 minutes, as libtorrent and Transmission do), and
///   never sooner than `minimumInterval` (a minute, BEP 14's limit against
///   multicast storms) after its last announce, whatever happens.
/// - Hearing a peer we did not know for a torrent we have brings our next
///   announce of that torrent forward to the earliest the limit allows, so a
///   node that starts after us learns of us within a minute, not five.
/// - Announces carrying our own cookie (our multicast looped back) are dropped,
///   and a peer already handed out is not handed out again until it has been
///   silent for `peerMemory`, so repeats and floods do not reach the sessions.
public struct LSDScheduler: Sendable {
    public struct Configuration: Sendable {
        public var announceInterval: Double = 5 * 60
        public var minimumInterval: Double = 60
        /// How long a peer handed to a session is remembered (and not handed again).
        public var peerMemory: Double = 10 * 60
        /// Bound on remembered peers, whatever arrives on the LAN.
        public var maxRememberedPeers = 4096

        public init() {}
    }

    /// Torrents to announce now on TCP `port`, in one announce per group.
    public struct Due: Equatable, Sendable {
        public var port: UInt16
        public var infoHashes: [InfoHash]

        public init(port: UInt16, infoHashes: [InfoHash]) {
            self.port = port
            self.infoHashes = infoHashes
        }
    }

    /// A peer heard on the LAN for one of our torrents.
    public struct Peer: Hashable, Sendable {
        public var infoHash: InfoHash
        public var address: PeerAddress

        public init(infoHash: InfoHash, address: PeerAddress) {
            self.infoHash = infoHash
            self.address = address
        }
    }

    public struct Statistics: Equatable, Sendable {
        public var malformed = 0
        public var own = 0
        public var repeated = 0
        public var notOurs = 0

        public init(malformed: Int = 0, own: Int = 0, repeated: Int = 0, notOurs: Int = 0) {
            self.malformed = malformed
            self.own = own
            self.repeated = repeated
            self.notOurs = notOurs
        }
    }

    private struct Torrent {
        var port: UInt16
        var nextAnnounce: Double
        var lastAnnounce: Double?
    }

    public let cookie: String
    public let configuration: Configuration
    public private(set) var statistics = Statistics()
    private var torrents: [InfoHash: Torrent] = [:]
    private var remembered: [Peer: Double] = [:]

    /// `cookie` identifies our announces; the caller picks it at random.
    public init(cookie: String, configuration: Configuration = Configuration()) {
        precondition(!cookie.isEmpty && cookie.utf8.count <= LSDAnnounce.maxCookieLength)
        self.cookie = cookie
        self.configuration = configuration
    }

    public var infoHashes: [InfoHash] { Array(torrents.keys) }

    /// Peers remembered as handed out (bounded by `maxRememberedPeers`).
    public var rememberedPeerCount: Int { remembered.count }

    /// Starts announcing `infoHash` on TCP `port`: at once if it is new. Adding
    /// a torrent we already announce changes nothing (unless the port moved,
    /// which is announced as soon as the limit allows).
    public mutating func add(_ infoHash: InfoHash, port: UInt16, now: Double) {
        guard var torrent = torrents[infoHash] else {
            torrents[infoHash] = Torrent(port: port, nextAnnounce: now)
            return
        }
        guard torrent.port != port else { return }
        torrent.port = port
        torrent.nextAnnounce = earliestAnnounce(torrent, now: now)
        torrents[infoHash] = torrent
    }

    public mutating func remove(_ infoHash: InfoHash) {
        torrents[infoHash] = nil
    }

    /// When `dueAnnounces` next has something to return (nil: no torrents).
    public var nextWake: Double? { torrents.values.map(\.nextAnnounce).min() }

    /// The announces to send now, grouped by port (in practice one group), and
    /// the next announce of each scheduled.
    public mutating func dueAnnounces(now: Double) -> [Due] {
        var byPort: [UInt16: [InfoHash]] = [:]
        for (infoHash, var torrent) in torrents where torrent.nextAnnounce <= now {
            byPort[torrent.port, default: []].append(infoHash)
            torrent.lastAnnounce = now
            torrent.nextAnnounce = now + max(configuration.announceInterval, configuration.minimumInterval)
            torrents[infoHash] = torrent
        }
        return byPort.keys.sorted().map { Due(port: $0, infoHashes: byPort[$0]!.sorted()) }
    }

    /// One datagram from `sourceIP`. Returns the peers to hand
    /// to the torrents they belong to; anything malformed, our own, not ours or
    /// recently handed out already is counted and dropped.
    public mutating func receive(_ datagram: some Collection<UInt8>, from sourceIP: IPAddress, now: Double) -> [Peer] {
        let announce: LSDAnnounce
        do { announce = try LSDAnnounce(parsing: datagram) } catch {
            statistics.malformed += 1
            return []
        }
        guard announce.cookie != cookie else {
            statistics.own += 1
            return []
        }
        var peers: [Peer] = []
        for infoHash in announce.infoHashes {
            guard var torrent = torrents[infoHash] else {
                statistics.notOurs += 1
                continue
            }
            let peer = Peer(infoHash: infoHash, address: PeerAddress(ip: sourceIP, port: announce.port))
            if let last = remembered[peer], now - last < configuration.peerMemory {
                statistics.repeated += 1
                remembered[peer] = now
                continue
            }
            remember(peer, now: now)
            peers.append(peer)
            // A newcomer: let it hear of us soon rather than at our next regular announce.
            torrent.nextAnnounce = min(torrent.nextAnnounce, earliestAnnounce(torrent, now: now))
            torrents[infoHash] = torrent
        }
        return peers
    }

    private func earliestAnnounce(_ torrent: Torrent, now: Double) -> Double {
        guard let last = torrent.lastAnnounce else { return now }
        return max(now, last + configuration.minimumInterval)
    }

    private mutating func remember(_ peer: Peer, now: Double) {
        if remembered.count >= configuration.maxRememberedPeers {
            remembered = remembered.filter { now - $0.value < configuration.peerMemory }
        }
        if remembered.count >= configuration.maxRememberedPeers,
           let oldest = remembered.min(by: { $0.value < $1.value })?.key {
            remembered[oldest] = nil
        }
        remembered[peer] = now
    }
}
