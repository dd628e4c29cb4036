import NIOCore

/// Tunables of one uTP connection. The defaults follow BEP 29, libutp and libtorrent.
public struct UTPConnectionConfiguration: Sendable {
    /// Largest datagram we send. 1,400 bytes fits a 1,500-byte Ethernet MTU under IPv6+UDP
    /// with room for PPPoE and most tunnels; MTU probing is not done (a safe fixed MTU).
    public var maximumDatagramSize = 1_400
    /// Largest selective-ACK bitmask we send (covers 256 packets past the gap).
    public var maximumSelectiveAckBytes = 32
    /// Bytes we accept ahead of the application (advertised as `wnd_size`).
    public var receiveBufferSize = 1 << 20
    /// Packets held out of order at most.
    public var maximumReorderedPackets = 1_024
    /// Packets in flight at most (well inside the 16-bit sequence space).
    public var maximumPacketsInFlight = 1_024
    /// SYN retransmissions before a connect attempt fails (libtorrent's utp_syn_resends: 2,
    /// so an unanswered attempt ends after 1 + 2 + 4 s).
    public var maximumSynRetransmissions = 2
    /// Consecutive retransmission timeouts before the connection is given up.
    public var maximumRetransmissions = 6
    /// An idle connection sends a bare ACK this often so NAT mappings stay open (libutp: 29 s).
    public var keepAliveInterval: TimeAmount = .seconds(29)
    /// A connection from which nothing arrives for this long is dead.
    public var idleTimeout: TimeAmount = .seconds(90)
    /// An accepted connection whose initiator sends nothing after our SYN-ACK is dropped after this.
    public var halfOpenTimeout: TimeAmount = .seconds(10)
    /// After our FIN is acknowledged, how long we wait for the peer's FIN.
    public var finLingerTimeout: TimeAmount = .seconds(30)
    public var congestion = UTPCongestionControl.Configuration()

    public init() {}

    /// Payload bytes per DATA packet: the datagram less the header and the largest selective ACK.
    public var maximumPayloadSize: Int {
        maximumDatagramSize - UTPHeader.length - 2 - maximumSelectiveAckBytes
    }
}

/// Where a connection stands.
public enum UTPConnectionState: Equatable, Sendable {
    /// We sent a SYN and wait for the peer's STATE.
    case synSent
    /// We answered a SYN and wait for the initiator's first packet (we send no data before it,
    /// so a SYN with a forged source address cannot make us send data to a victim).
    case synReceived
    case connected
    /// The application closed: our FIN is queued or sent; the peer may still send.
    case finSent
    case closed(UTPCloseReason)

    public var isClosed: Bool {
        if case .closed = self { return true }
        return false
    }
}

public enum UTPCloseReason: Equatable, Sendable {
    /// Both sides sent FIN and everything was acknowledged (or the peer's FIN never came).
    case finished
    /// The peer sent ST_RESET.
    case reset
    /// The application aborted; we sent ST_RESET.
    case aborted
    /// The peer stopped answering (connect attempt, retransmissions or idle time ran out).
    case timedOut
}

public enum UTPConnectionEvent: Equatable, Sendable {
    /// The handshake completed.
    case connected
    /// The peer's FIN arrived and every byte before it was delivered.
    case endOfStream
    case closed(UTPCloseReason)
}

/// What one input to a connection produced.
public struct UTPConnectionOutput: Sendable {
    /// Datagrams to send to the peer, in order.
    public var datagrams: [ByteBuffer] = []
    /// Stream bytes for the application, in order. Call `consumed(_:now:)` once they are read.
    public var delivered: [ByteBuffer] = []
    public var events: [UTPConnectionEvent] = []
    /// When to call `tick(now:)` next; nil once closed.
    public var nextWakeup: NIODeadline?

    public init() {}

    public var deliveredByteCount: Int { delivered.reduce(0) { $0 + $1.readableBytes } }
}

/// Counters and estimates for tests, benchmarks and `peers` views.
public struct UTPConnectionStatistics: Equatable, Sendable {
    public var packetsSent = 0
    public var packetsRetransmitted = 0
    public var packetsReceived = 0
    public var duplicatePacketsReceived = 0
    /// Packets ignored as invalid for this connection (ACKs of data never sent, wrong state).
    public var packetsRejected = 0
    public var fastRetransmits = 0
    public var timeouts = 0
    /// Last queuing delay our packets showed, microseconds.
    public var queuingDelay: Int64 = 0
    public var congestionWindow = 0
    /// Bytes sent and neither acknowledged nor judged lost.
    public var bytesInFlight = 0
    public var roundTripTime: Int64?
}
