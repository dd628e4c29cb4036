/// Tunables of the torrent state machine. Defaults suit real networks; tests
/// shorten the timers.
public struct SwarmConfiguration: Sendable {
    /// Regular unchoke slots (BEP 3 practice: 4), filled by rate.
    public var regularUnchokeSlots = 4
    /// Seconds between choke rounds and between optimistic unchoke rotations.
    public var chokeInterval = 10.0
    public var optimisticUnchokeInterval = 30.0
    /// The first pieces are picked at random rather than rarest-first, so a new
    /// peer quickly has something to trade.
    public var randomFirstPieces = 4
    /// A peer that delivers nothing for this long while we wait on it is snubbed:
    /// its requests go back to the pool and it gets one request at a time.
    public var requestTimeout = 20.0
    /// Peers silent for this long are dropped (keep-alives come every 2 minutes).
    public var idleTimeout = 180.0
    /// Request pipeline per peer: enough blocks to cover `requestQueueSeconds`
    /// of its measured rate, within these bounds (and the peer's `reqq`).
    public var minRequestQueue = 16
    public var initialRequestQueue = 64
    public var maxRequestQueue = 1000
    public var requestQueueSeconds = 1.0
    /// Requests a peer may queue with us (advertised as `reqq`).
    public var servedRequestQueue = 2000
    /// Bytes of pieces being assembled or verified; no new piece starts past this.
    public var maxBytesInFlight = 256 << 20
    /// Ban rule: hash failures of pieces this peer alone sent, or that it helped send.
    public var banAfterSoleFailures = 2
    public var banAfterSharedFailures = 4
    /// BEP 6 allowed-fast pieces offered to each peer that supports the fast extension.
    public var allowedFastCount = 10
    /// Endgame: how many peers may be asked for the same block at once.
    public var endgameDuplicates = 2
    /// ut_metadata requests in flight per peer, and how long one may take.
    public var metadataRequestsPerPeer = 4
    public var metadataTimeout = 10.0
    /// Client name sent as BEP 10 `v`.
    public var clientName = "BitFountain 0.1.0"
    /// bf_fountain: decode attempts on one piece (unsolvable symbol sets, or
    /// wrong data while a polluter is searched for) before it is dropped and
    /// started over.
    public var maxDecodeRounds = 6
    /// Test and diagnosis only (`BITFOUNTAIN_TEST_MODE=repair-only`): ask
    /// bf_fountain peers for repair symbols only, never for blocks, so every
    /// piece they send is rebuilt by the decoder.
    public var repairSymbolsOnly = false

    public init() {}
}
