import Metainfo
import Swarm

/// Everything a `Session` is started with. The defaults are those of a
/// desktop client on the real network; `loopbackOnly(stateDirectory:)` is one
/// that never leaves this machine (tests, and apps that want exactly that).
public struct SessionConfiguration: Sendable {
    /// Address to listen on and dial from; "0.0.0.0" for all. 127.0.0.1 keeps every socket on loopback.
    public var bindHost = "0.0.0.0"
    /// TCP port for peers. nil: 6881, else the next free one up to 6889. 0: any free port.
    public var port: UInt16?
    /// DHT nodes to join through; empty: the default list (Bootstrap/nodes.txt).
    public var bootstrap: [HostPort] = []
    /// Join the DHT. A node bound to loopback with no `bootstrap` has nobody to join and runs without it.
    public var dht = true
    /// BEP 14 Local Service Discovery (always off on loopback).
    public var localServiceDiscovery = true
    /// Ask the home router (NAT-PMP) to forward the TCP and DHT ports (never on loopback).
    public var portMapping = true
    /// uTP (BEP 29) beside TCP, both ways; on the DHT's UDP port when there is a DHT.
    public var utp = true
    /// MSE/PE for incoming and outgoing connections.
    public var encryption = EncryptionPolicy.prefer
    /// Global upload and download limits in bytes per second; nil for none.
    public var uploadLimit: Int?
    public var downloadLimit: Int?
    /// Connections for all torrents together, and for each one.
    public var maxConnections = 400
    public var maxPeersPerTorrent = 60
    /// Defaults for new torrents: speak bf_fountain, exchange peers (BEP 11).
    public var fountain = true
    public var pex = true
    /// The share ratio at which seeds that follow the session's limit stop; nil: never.
    public var seedRatioLimit: Double?
    /// Memory for the intermediate symbols of hot pieces served as repair symbols.
    public var symbolCacheBytes = 256 << 20
    /// Where resume data, fetched metadata and the DHT's key and routing table live.
    public var stateDirectory = StateDirectory.defaultPath()
    /// Keep the torrent list and settings in `stateDirectory` and restore them at the
    /// next start (a daemon). Off for one-shot commands, which open only what they are given.
    public var persistTorrents = false
    /// Where downloads go when `AddOptions.savePath` is nil.
    public var defaultSavePath = "."
    /// Spread the DHT announces of restored torrents over this many seconds, so
    /// thousands of torrents do not all hit the DHT in the same second.
    public var announceSpread: Double = 60
    /// The swarm engine's tuning (request queues, endgame, fountain thresholds).
    public var swarm = SwarmConfiguration()
    /// Re-announce and look-up intervals (seconds).
    public var announceInterval: Double = 15 * 60
    public var lookupInterval: Double = 5 * 60
    /// `created by` of the torrents `TorrentSource.publish` makes.
    public var clientName = "BitFountain"
    /// Test only: serve random bytes instead of repair symbols (the polluter of the pollution tests).
    public var testCorruptRepairSymbols = false
    /// A DHT node and nothing else (`bitfountain node`): no peer listener (TCP, uTP) and no
    /// torrents. Its DHT runs on exactly `port` (a busy port is an error, not a move to
    /// another) and runs even when bound to loopback with no `bootstrap`: others join through it.
    public var dhtOnly = false

    public init() {}

    /// A session that never leaves 127.0.0.1: any free port, and no DHT, Local Service
    /// Discovery or port mapping, so nothing it does reaches the network or another session
    /// it was not given the address of. State in `stateDirectory`; the rest are the defaults.
    public static func loopbackOnly(stateDirectory: String) -> SessionConfiguration {
        var configuration = SessionConfiguration()
        configuration.bindHost = "127.0.0.1"
        configuration.port = 0
        configuration.dht = false
        configuration.localServiceDiscovery = false
        configuration.portMapping = false
        configuration.stateDirectory = stateDirectory
        return configuration
    }
}

/// What can be changed while the session runs (`Session.updateSettings`).
public struct SessionSettings: Sendable, Equatable, Codable {
    public var uploadLimit: Int?
    public var downloadLimit: Int?
    public var maxConnections: Int
    public var maxPeersPerTorrent: Int
    public var encryption: EncryptionPolicy
    /// The TCP port peers reach us on (read-only here: it is fixed at start).
    public internal(set) var port: UInt16
    public var defaultSavePath: String
    /// Fountain default for torrents added without saying.
    public var fountain: Bool
    /// The share ratio at which seeds stop, for those that follow the session's limit
    /// (`SeedRatioLimit.global`); nil: they seed on.
    public var seedRatioLimit: Double?
    /// The alternative limits, in bytes per second, 0 for none ("turtle mode" in Transmission,
    /// "alternative speed limits" in qBittorrent): in force instead of `uploadLimit` and
    /// `downloadLimit` while `altSpeedEnabled`.
    public var altUploadLimit = Self.defaultAltLimit
    public var altDownloadLimit = Self.defaultAltLimit
    public var altSpeedEnabled = false

    /// Transmission's default alternative limit, 50 kB/s.
    public static let defaultAltLimit = 50_000

    /// The limits enforced now: the alternative ones while they are on.
    public var effectiveUploadLimit: Int? { altSpeedEnabled ? (altUploadLimit > 0 ? altUploadLimit : nil) : uploadLimit }
    public var effectiveDownloadLimit: Int? { altSpeedEnabled ? (altDownloadLimit > 0 ? altDownloadLimit : nil) : downloadLimit }

    public init(uploadLimit: Int? = nil, downloadLimit: Int? = nil, maxConnections: Int = 400, maxPeersPerTorrent: Int = 60,
                encryption: EncryptionPolicy = .prefer, port: UInt16 = 0, defaultSavePath: String = ".", fountain: Bool = true,
                seedRatioLimit: Double? = nil) {
        self.uploadLimit = uploadLimit
        self.downloadLimit = downloadLimit
        self.maxConnections = maxConnections
        self.maxPeersPerTorrent = maxPeersPerTorrent
        self.encryption = encryption
        self.port = port
        self.defaultSavePath = defaultSavePath
        self.fountain = fountain
        self.seedRatioLimit = seedRatioLimit
    }

    /// Settings written before a field existed load with that field's default (the
    /// synthesized decoder would refuse the whole file, and every setting with it).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(uploadLimit: try container.decodeIfPresent(Int.self, forKey: .uploadLimit),
                  downloadLimit: try container.decodeIfPresent(Int.self, forKey: .downloadLimit),
                  maxConnections: try container.decodeIfPresent(Int.self, forKey: .maxConnections) ?? 400,
                  maxPeersPerTorrent: try container.decodeIfPresent(Int.self, forKey: .maxPeersPerTorrent) ?? 60,
                  encryption: try container.decodeIfPresent(EncryptionPolicy.self, forKey: .encryption) ?? .prefer,
                  port: try container.decodeIfPresent(UInt16.self, forKey: .port) ?? 0,
                  defaultSavePath: try container.decodeIfPresent(String.self, forKey: .defaultSavePath) ?? ".",
                  fountain: try container.decodeIfPresent(Bool.self, forKey: .fountain) ?? true,
                  seedRatioLimit: try container.decodeIfPresent(Double.self, forKey: .seedRatioLimit))
        altUploadLimit = try container.decodeIfPresent(Int.self, forKey: .altUploadLimit) ?? Self.defaultAltLimit
        altDownloadLimit = try container.decodeIfPresent(Int.self, forKey: .altDownloadLimit) ?? Self.defaultAltLimit
        altSpeedEnabled = try container.decodeIfPresent(Bool.self, forKey: .altSpeedEnabled) ?? false
    }
}
