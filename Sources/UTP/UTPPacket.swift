import NIOCore

/// The five packet types of BEP 29, carried in the high nibble of a header's first byte.
public enum UTPPacketType: UInt8, Sendable, CaseIterable {
    /// Payload; consumes a sequence number.
    case data = 0
    /// The sender's last packet; consumes a sequence number.
    case fin = 1
    /// A bare acknowledgement; does not consume a sequence number.
    case state = 2
    /// Tears the connection down at once.
    case reset = 3
    /// Opens a connection; consumes a sequence number.
    case syn = 4

    /// Whether a packet of this type occupies a sequence number, and so must be acknowledged
    /// and retransmitted when lost.
    public var consumesSequenceNumber: Bool {
        switch self {
        case .data, .fin, .syn: return true
        case .state, .reset: return false
        }
    }
}

/// The fixed 20-byte uTP header (BEP 29, version 1). All fields are big-endian on the wire.
public struct UTPHeader: Equatable, Hashable, Sendable {
    public static let version: UInt8 = 1
    public static let length = 20

    public var type: UTPPacketType
    public var connectionID: UInt16
    /// The sender's clock (microseconds, low 32 bits) when the packet left.
    public var timestampMicroseconds: UInt32
    /// The sender's clock minus the timestamp of the last packet it received: the one-way
    /// delay (plus clock offset) the *receiver's* packets are seeing. LEDBAT feeds on this.
    public var timestampDifferenceMicroseconds: UInt32
    /// Bytes the sender can still take into its receive buffer.
    public var windowSize: UInt32
    public var sequenceNumber: UInt16
    /// The last sequence number the sender has received in order.
    public var ackNumber: UInt16

    public init(
        type: UTPPacketType, connectionID: UInt16, timestampMicroseconds: UInt32 = 0,
        timestampDifferenceMicroseconds: UInt32 = 0, windowSize: UInt32 = 0,
        sequenceNumber: UInt16 = 0, ackNumber: UInt16 = 0
    ) {
        self.type = type
        self.connectionID = connectionID
        self.timestampMicroseconds = timestampMicroseconds
        self.timestampDifferenceMicroseconds = timestampDifferenceMicroseconds
        self.windowSize = windowSize
        self.sequenceNumber = sequenceNumber
        self.ackNumber = ackNumber
    }

    /// The first byte of every uTP header: type in the high nibble, version 1 in the low one.
    public var firstByte: UInt8 { type.rawValue << 4 | Self.version }
}

/// One uTP datagram as decoded once at the edge: header, the selective ACK if any, payload.
/// Extensions other than the selective ACK are skipped on decode and never sent.
public struct UTPPacket: Equatable, Sendable {
    public var header: UTPHeader
    public var selectiveAck: UTPSelectiveAck?
    /// A slice of the received datagram (no copy).
    public var payload: ByteBuffer

    public init(header: UTPHeader, selectiveAck: UTPSelectiveAck? = nil, payload: ByteBuffer = ByteBuffer()) {
        self.header = header
        self.selectiveAck = selectiveAck
        self.payload = payload
    }
}
