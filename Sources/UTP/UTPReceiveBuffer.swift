import NIOCore

/// The receiving half: puts DATA packets back in order, tracks the cumulative `ack_nr`, builds
/// the selective ACK for what arrived out of order, and finds the end of the stream (FIN).
/// Bounded by a packet count and by bytes: what does not fit is dropped (and acknowledged as
/// a duplicate would be), never stored.
struct UTPReceiveBuffer: Sendable {
    /// The last sequence number received in order.
    private(set) var ackNumber: UInt16
    /// Packets past `ackNumber + 1`, keyed by sequence number.
    private var reordered: [UInt16: ByteBuffer] = [:]
    private(set) var reorderedBytes = 0
    /// Sequence number of the peer's FIN, once one arrived inside the window.
    private(set) var finSequenceNumber: UInt16?
    /// The FIN has been reached in order: the stream is complete.
    private(set) var reachedEnd = false
    let maximumReorderedPackets: Int

    init(ackNumber: UInt16, maximumReorderedPackets: Int) {
        self.ackNumber = ackNumber
        self.maximumReorderedPackets = maximumReorderedPackets
    }

    enum Outcome: Equatable {
        /// In order: these payloads (the packet's and any it released) go to the application.
        case delivered([ByteBuffer])
        /// Ahead of a gap; kept for later.
        case buffered
        /// Already received (or after the FIN); only worth a fresh ACK.
        case duplicate
        /// Too far ahead, or no room: dropped.
        case dropped
    }

    /// Takes a DATA (`isFin == false`) or FIN packet. `room` is how many more payload bytes the
    /// receive buffer may hold; an in-order packet is taken while any room is left (so a
    /// one-packet probe into a closed window still makes progress once the application reads).
    mutating func receive(sequenceNumber: UInt16, payload: ByteBuffer, isFin: Bool, room: Int) -> Outcome {
        let distance = UTPSequence.distance(from: ackNumber, to: sequenceNumber)
        guard distance > 0 else { return .duplicate }
        if let fin = finSequenceNumber, UTPSequence.distance(from: fin, to: sequenceNumber) >= 0,
           !(isFin && sequenceNumber == fin) {
            return .duplicate
        }
        guard distance <= maximumReorderedPackets else { return .dropped }
        if isFin {
            // A FIN carries no payload; what it marks is where the stream ends.
            finSequenceNumber = sequenceNumber
            dropReordered(after: sequenceNumber)
        }
        if distance == 1 {
            guard room > 0 || payload.readableBytes == 0 else { return .dropped }
            return .delivered(advance(first: isFin ? nil : payload))
        }
        guard reordered[sequenceNumber] == nil else { return .duplicate }
        guard !isFin else { return .buffered }
        guard payload.readableBytes <= room else { return .dropped }
        reordered[sequenceNumber] = payload
        reorderedBytes += payload.readableBytes
        return .buffered
    }

    /// Moves `ackNumber` past the packet just received and everything it releases.
    private mutating func advance(first payload: ByteBuffer?) -> [ByteBuffer] {
        var released: [ByteBuffer] = []
        if let payload, payload.readableBytes > 0 { released.append(payload) }
        ackNumber &+= 1
        markEndIfReached()
        while !reachedEnd, let next = reordered.removeValue(forKey: ackNumber &+ 1) {
            reorderedBytes -= next.readableBytes
            if next.readableBytes > 0 { released.append(next) }
            ackNumber &+= 1
            markEndIfReached()
        }
        if !reachedEnd, finSequenceNumber == ackNumber &+ 1 {
            ackNumber &+= 1
            markEndIfReached()
        }
        return released
    }

    private mutating func markEndIfReached() {
        if finSequenceNumber == ackNumber { reachedEnd = true }
    }

    /// Packets after the FIN can never be part of the stream.
    private mutating func dropReordered(after fin: UInt16) {
        for key in reordered.keys where UTPSequence.distance(from: fin, to: key) > 0 {
            reorderedBytes -= reordered.removeValue(forKey: key)!.readableBytes
        }
    }

    /// The selective ACK for what arrived past the gap at `ackNumber + 1`, limited to
    /// `maximumBytes` of bitmask (the rest is reported once the gap closes).
    func selectiveAck(maximumBytes: Int) -> UTPSelectiveAck? {
        guard !reordered.isEmpty || finSequenceNumber.map({ UTPSequence.distance(from: ackNumber, to: $0) > 1 }) == true
        else { return nil }
        let limit = maximumBytes * 8
        var offsets: [Int] = []
        for key in reordered.keys {
            let offset = UTPSequence.distance(from: ackNumber &+ 2, to: key)
            if offset < limit { offsets.append(offset) }
        }
        if let fin = finSequenceNumber, !reachedEnd {
            let offset = UTPSequence.distance(from: ackNumber &+ 2, to: fin)
            if offset >= 0, offset < limit { offsets.append(offset) }
        }
        return UTPSelectiveAck(ackedOffsets: offsets)
    }
}
