import Identity
import Metainfo
import PeerWire

/// What the torrent state machine knows about one connected peer.
public struct PeerRecord: Sendable {
    public typealias Key = UInt64

    public let key: Key
    /// `ip:port` as the adapter saw it; used in stats and ban lists.
    public let address: String
    public let peerID: PeerID
    public let supportsFast: Bool
    public let supportsExtensions: Bool
    public let supportsDHT: Bool
    /// We dialled it: its address is where it listens, and others can reach it too (PEX `reachable`).
    public let outgoing: Bool
    /// The connection runs over uTP, so the peer speaks it (PEX `supports uTP`).
    public let overUTP: Bool
    /// Its IP as the connection saw it.
    public let remoteIP: IPAddress?
    /// Where it accepts connections: the address we dialled, or for an
    /// incoming peer its IP and the BEP 10 `p` it sent. What PEX passes on.
    public internal(set) var listenAddress: PeerAddress?

    public var amChoking = true
    public var amInterested = false
    public var peerChoking = true
    public var peerInterested = false
    public var isOptimistic = false

    /// The peer's pieces; nil until both its announcement and our metadata are known.
    public var pieces: Bitfield?
    /// What it announced before we had the metadata (BEP 9 downloads).
    var earlyBitfield: [UInt8]?
    var earlyHaves: [Int] = []
    var earlyHaveAll = false
    /// Pieces it has that we lack: interest without rescanning the bitfield.
    var interestingCount = 0

    /// Our block and bf_fountain symbol requests to it, and its timeout clock (RequestLedger.swift).
    var requests: RequestLedger
    /// Its requests that we are serving.
    var serving: Set<BlockRequest> = []
    /// Bytes of blocks and symbols it sent that were never asked for.
    var unrequestedBytes = 0
    public internal(set) var targetQueue: Int
    var lastMessageAt: Double
    public internal(set) var snubbed = false
    /// Pieces we may ask it for while it chokes us (BEP 6).
    var allowedFastFromPeer: Set<Int> = []
    /// Pieces it may ask us for while we choke it.
    var allowedFastToPeer: Set<Int> = []
    /// It dialled us, so our handshake and greeting (extension handshake, piece
    /// set, allowed_fast, port) left in one write. A peer whose handshake reader
    /// stops at the end of the handshake and reads on only when new bytes arrive
    /// leaves that greeting unread until we send again (TorrentMachine+Receive.swift).
    /// Cleared once bytes of ours have followed its first message.
    var greetingMayBeUnread: Bool

    public var extensions: ExtensionHandshake?

    public internal(set) var download = RateMeter()
    public internal(set) var upload = RateMeter()
    public internal(set) var soleHashFailures = 0
    public internal(set) var sharedHashFailures = 0

    init(key: Key, address: String, handshake: Handshake, now: Double, initialQueue: Int,
         dialed: PeerAddress? = nil, remoteIP: IPAddress? = nil, overUTP: Bool = false) {
        self.key = key
        self.address = address
        outgoing = dialed != nil
        self.overUTP = overUTP
        greetingMayBeUnread = dialed == nil
        listenAddress = dialed
        self.remoteIP = remoteIP ?? dialed?.ip
        peerID = handshake.peerID
        supportsFast = handshake.reserved.fast
        supportsExtensions = handshake.reserved.extensionProtocol
        supportsDHT = handshake.reserved.dht
        targetQueue = initialQueue
        requests = RequestLedger(now: now)
        lastMessageAt = now
        download = RateMeter(startingAt: now)
        upload = RateMeter(startingAt: now)
    }

    public var isSeed: Bool { pieces?.isComplete ?? earlyHaveAll }

    /// Block and symbol requests we are waiting on.
    var requestsInFlight: Int { requests.count }

    /// The ID it wants bf_fountain messages under, when it speaks the extension.
    var fountainID: UInt8? { extensions?.id(of: BFFountain.extensionName) }
}

/// One encoding symbol of a piece, asked for over bf_fountain.
struct SymbolRequest: Hashable, Sendable {
    let piece: Int
    let esi: UInt32
}

/// A snapshot of one peer for progress displays, benchmarks and issue 7's scheduler.
public struct PeerStats: Sendable {
    public let key: PeerRecord.Key
    public let address: String
    public let client: String
    public let downloadRate: Double
    public let uploadRate: Double
    public let downloaded: Int64
    public let uploaded: Int64
    public let requestsOutstanding: Int
    public let requestQueueTarget: Int
    public let amChoking: Bool
    public let peerChoking: Bool
    public let snubbed: Bool
    public let isSeed: Bool
    public let hashFailures: Int
    /// It speaks bf_fountain (and we do).
    public let fountain: Bool
    /// Repair symbols it sent us.
    public let repairSymbols: Int
}

extension PeerRecord {
    /// Whether we still owe this peer the block (not cancelled, not choked since).
    public func isServing(_ request: BlockRequest) -> Bool { serving.contains(request) }
}
