import NIOCore

/// One packet we sent that occupies a sequence number (SYN, DATA or FIN) and is not yet
/// acknowledged. Kept until acknowledged so it can be sent again.
struct UTPOutgoingPacket: Sendable {
    let sequenceNumber: UInt16
    let type: UTPPacketType
    let payload: ByteBuffer
    var transmissions = 0
    /// When the last transmission left (nanoseconds).
    var lastSent: UInt64 = 0
    /// Counted in `bytesInFlight`: sent and neither acknowledged nor judged lost.
    var inFlight = false
    /// Judged lost; waiting to be sent again.
    var needsResend = false
    /// Reported received by a selective ACK (it stays until the cumulative ACK passes it).
    var selectivelyAcked = false

    /// What the packet counts against the congestion window: header and payload.
    var cost: Int { UTPHeader.length + payload.readableBytes }
}

/// The retransmission queue: packets in sequence order from the oldest unacknowledged one.
/// Handles cumulative and selective ACKs, loss marking and the bytes-in-flight count; the
/// connection decides when to send.
struct UTPSendBuffer: Sendable {
    private(set) var packets = CircularBuffer<UTPOutgoingPacket>()
    /// The sequence number the next new packet gets.
    private(set) var nextSequenceNumber: UInt16
    private(set) var bytesInFlight = 0
    /// Packets with `needsResend` set, so that the connection's every flush need not scan the
    /// whole queue (up to a thousand packets) to learn that nothing waits to be sent again.
    private(set) var pendingResendCount = 0

    init(initialSequenceNumber: UInt16) {
        nextSequenceNumber = initialSequenceNumber
    }

    var isEmpty: Bool { packets.isEmpty }
    var count: Int { packets.count }
    /// Sequence number of the oldest unacknowledged packet (`nextSequenceNumber` when empty).
    var oldestSequenceNumber: UInt16 { packets.first?.sequenceNumber ?? nextSequenceNumber }

    /// Queues a new packet and returns its sequence number; the caller then transmits it.
    mutating func append(type: UTPPacketType, payload: ByteBuffer) -> UInt16 {
        let sequenceNumber = nextSequenceNumber
        packets.append(UTPOutgoingPacket(sequenceNumber: sequenceNumber, type: type, payload: payload))
        nextSequenceNumber &+= 1
        return sequenceNumber
    }

    /// How an `ack_nr` relates to what we sent.
    enum AckClass { case valid, stale, future }

    /// `valid` if it acknowledges nothing or some of our packets; `stale` if it is from before
    /// our oldest packet (a reordered old datagram); `future` if it acknowledges packets never
    /// sent, which no honest peer does.
    func classify(ackNumber: UInt16) -> AckClass {
        let distance = UTPSequence.distance(from: oldestSequenceNumber &- 1, to: ackNumber)
        if distance < 0 { return .stale }
        return distance <= packets.count ? .valid : .future
    }

    struct Acknowledgement {
        var bytesAcked = 0
        var packetsAcked = 0
        /// Round-trip samples (microseconds) from packets sent exactly once (Karn's rule).
        var roundTripSamples: [Int64] = []
        /// Whether our FIN was among them (the only type the connection asks about).
        var acknowledgedFin = false

        mutating func add(_ other: Acknowledgement) {
            bytesAcked += other.bytesAcked
            packetsAcked += other.packetsAcked
            roundTripSamples += other.roundTripSamples
            acknowledgedFin = acknowledgedFin || other.acknowledgedFin
        }
    }

    /// Removes every packet up to and including `ackNumber` (which must be `valid`).
    mutating func acknowledge(upTo ackNumber: UInt16, now: UInt64) -> Acknowledgement {
        var result = Acknowledgement()
        let count = UTPSequence.distance(from: oldestSequenceNumber &- 1, to: ackNumber)
        for _ in 0..<max(0, count) {
            let packet = packets.removeFirst()
            if packet.inFlight { bytesInFlight -= packet.cost }
            if packet.needsResend { pendingResendCount -= 1 }
            // A selectively acknowledged packet was counted when its bit arrived.
            if !packet.selectivelyAcked { record(packet, into: &result, now: now) }
        }
        return result
    }

    /// Applies a selective ACK sent along with `ackNumber`: marks the packets it reports,
    /// takes them out of flight, and returns the newly acknowledged ones. Bits past what we
    /// sent are ignored.
    mutating func applySelectiveAck(_ sack: UTPSelectiveAck, ackNumber: UInt16, now: UInt64) -> Acknowledgement {
        var result = Acknowledgement()
        // Index of ack_nr + 2 in `packets`.
        let base = UTPSequence.distance(from: oldestSequenceNumber, to: ackNumber &+ 2)
        for offset in 0..<sack.bitCount where sack.isAcked(offset: offset) {
            let index = base + offset
            guard index >= 0 else { continue }
            guard index < packets.count else { break }
            let position = packets.index(packets.startIndex, offsetBy: index)
            guard !packets[position].selectivelyAcked else { continue }
            packets[position].selectivelyAcked = true
            setNeedsResend(false, at: position)
            record(packets[position], into: &result, now: now)
            if packets[position].inFlight {
                packets[position].inFlight = false
                bytesInFlight -= packets[position].cost
            }
        }
        return result
    }

    private func record(_ packet: UTPOutgoingPacket, into result: inout Acknowledgement, now: UInt64) {
        result.bytesAcked += packet.cost
        result.packetsAcked += 1
        if packet.type == .fin { result.acknowledgedFin = true }
        if packet.transmissions == 1, now >= packet.lastSent {
            result.roundTripSamples.append(Int64((now - packet.lastSent) / 1_000))
        }
    }

    /// Marks as lost every unacknowledged packet that has at least `threshold` selectively
    /// acknowledged packets after it that were sent after its own last transmission (a packet
    /// just sent again is not judged on the same evidence twice). Returns how many were marked.
    mutating func markLostBySelectiveAck(threshold: Int = 3) -> Int {
        var marked = 0
        var sackedAfter = 0
        var latestSackedSend: UInt64 = 0
        for offset in stride(from: packets.count - 1, through: 0, by: -1) {
            let index = packets.index(packets.startIndex, offsetBy: offset)
            let packet = packets[index]
            if packet.selectivelyAcked {
                sackedAfter += 1
                latestSackedSend = max(latestSackedSend, packet.lastSent)
            } else if sackedAfter >= threshold, packet.inFlight, packet.lastSent < latestSackedSend {
                markLost(at: index)
                marked += 1
            }
        }
        return marked
    }

    /// Marks the oldest packet lost (fast retransmit after duplicate ACKs). Returns whether it
    /// was in flight.
    mutating func markOldestLost() -> Bool {
        guard let first = packets.first, first.inFlight, !first.selectivelyAcked else { return false }
        markLost(at: packets.startIndex)
        return true
    }

    /// A retransmission timeout: everything in flight is presumed lost.
    mutating func markAllLost() {
        for index in packets.indices where packets[index].inFlight {
            markLost(at: index)
        }
    }

    private mutating func markLost(at index: CircularBuffer<UTPOutgoingPacket>.Index) {
        if packets[index].inFlight { bytesInFlight -= packets[index].cost }
        packets[index].inFlight = false
        setNeedsResend(true, at: index)
    }

    private mutating func setNeedsResend(_ value: Bool, at index: CircularBuffer<UTPOutgoingPacket>.Index) {
        guard packets[index].needsResend != value else { return }
        packets[index].needsResend = value
        pendingResendCount += value ? 1 : -1
    }

    /// Index of the oldest packet waiting to be sent again, if any.
    var firstPendingResend: CircularBuffer<UTPOutgoingPacket>.Index? {
        guard pendingResendCount > 0 else { return nil }
        return packets.indices.first { packets[$0].needsResend }
    }

    /// The index of the packet with this sequence number, if still held.
    func index(of sequenceNumber: UInt16) -> CircularBuffer<UTPOutgoingPacket>.Index? {
        let offset = UTPSequence.distance(from: oldestSequenceNumber, to: sequenceNumber)
        guard offset >= 0, offset < packets.count else { return nil }
        return packets.index(packets.startIndex, offsetBy: offset)
    }

    /// Records a (re)transmission of the packet at `index` and returns it.
    mutating func markSent(at index: CircularBuffer<UTPOutgoingPacket>.Index, now: UInt64) -> UTPOutgoingPacket {
        packets[index].transmissions += 1
        packets[index].lastSent = now
        setNeedsResend(false, at: index)
        if !packets[index].inFlight {
            packets[index].inFlight = true
            bytesInFlight += packets[index].cost
        }
        return packets[index]
    }
}
