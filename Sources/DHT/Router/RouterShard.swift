import Identity

/// A contact that answered an admission ping.
public struct ProvenContact: Sendable, Equatable {
    public var id: NodeID
    public var address: NodeAddress
    /// Unix seconds.
    public var seen: UInt32
}

/// How contacts are spread over the workers' rings: by a keyed hash of the
/// address (IP, /64, or IP and port for local ones), not by the worker that
/// happened to receive the pong. The kernel sends each source to one worker,
/// so filling rings by arrival would hand every requester only contacts that
/// share its worker: a network of new nodes would split into one island per
/// worker. Hashing makes each worker's ring a uniform sample of all contacts
/// and keeps one entry per IP across workers. The key comes from the
/// router's persistent ID, so contacts keep their home across restarts.
public struct RouterShard: Sendable {
    public let index: Int
    public let count: Int
    private let hasher: SipHash

    public init(index: Int, count: Int, key: (UInt64, UInt64)) {
        self.index = index
        self.count = max(1, count)
        hasher = SipHash(key0: key.0, key1: key.1)
    }

    public static let single = RouterShard(index: 0, count: 1, key: (0, 0))

    @inline(__always)
    public func home(of address: NodeAddress) -> Int {
        count == 1 ? 0 : Int(truncatingIfNeeded: RouterKeys.hash(address, with: hasher) % UInt64(count))
    }
}
