/// A loss-based TCP-like bulk flow (Reno's AIMD) for the simulated network: the competing
/// download LEDBAT must yield to. Slow start from Linux's initial window of 10 segments, then
/// one segment more per round trip; a drop halves the window, once per window of data. Every
/// segment is acknowledged on its own. Lost segments are not resent: the flow always has new
/// data, and only its throughput is measured. It sees only the bottleneck's drops, so the
/// lost-segment notice (standing for three duplicate ACKs) always comes and no timeout is needed.
struct SimulatedRenoFlow {
    /// Bytes of one segment on the wire (a full Ethernet frame's payload).
    static let segmentSize = 1_500
    static let ackSize = 52

    private(set) var window: Double = 10  // segments
    private var threshold = Double.infinity
    private var inFlight = 0
    private var nextSegment: UInt64 = 0
    /// A drop of a segment sent before this one belongs to the congestion event already answered.
    private var recoveryStart: UInt64 = 0
    /// No new segment is sent from this time on.
    var stopAt = UInt64.max
    /// (time, bytes on the wire) of every segment that reached the receiver.
    private(set) var deliveries: [(time: UInt64, bytes: Int)] = []

    mutating func onAck() {
        inFlight -= 1
        window += window < threshold ? 1 : 1 / window
    }

    mutating func onLoss(of segment: UInt64) {
        inFlight -= 1
        guard segment >= recoveryStart else { return }
        threshold = max(window / 2, 2)
        window = threshold
        recoveryStart = nextSegment
    }

    mutating func onDelivery(at time: UInt64) {
        deliveries.append((time, Self.segmentSize))
    }

    /// The segments the window lets out at `now`.
    mutating func segmentsToSend(now: UInt64) -> [UInt64] {
        guard now < stopAt else { return [] }
        var segments: [UInt64] = []
        while inFlight < Int(window) {
            segments.append(nextSegment)
            nextSegment += 1
            inFlight += 1
        }
        return segments
    }

    /// Bits per second delivered in `[from, to)` seconds of virtual time.
    func rate(from: Double, to: Double) -> Double {
        let bytes = deliveries.filter { Double($0.time) / 1e9 >= from && Double($0.time) / 1e9 < to }.map(\.bytes).reduce(0, +)
        return Double(bytes * 8) / (to - from)
    }
}

extension SimulatedNetwork {
    /// Starts the Reno flow from 1 to 2 at the current time, through the same bottleneck as uTP.
    mutating func startRenoFlow() {
        reno = SimulatedRenoFlow()
        sendRenoSegments()
    }

    /// Handles a Reno packet reaching its end (or the sender learning of a drop).
    mutating func deliverReno(_ delivery: InFlight) {
        switch delivery.payload {
        case .renoSegment(let segment):
            reno?.onDelivery(at: now)
            guard let departure = enterBottleneck(size: SimulatedRenoFlow.ackSize, toward: delivery.from) else {
                // A lost ACK: the next one covers it (cumulative), so count the segment done.
                reno?.onAck()
                return
            }
            let arrival = departure &+ (profiles[delivery.from] ?? LinkProfile()).delay
            enqueue(InFlight(deliverAt: arrival, order: 0, from: delivery.to, to: delivery.from, payload: .renoAck(segment)))
        case .renoAck:
            reno?.onAck()
            sendRenoSegments()
        case .renoLoss(let segment):
            reno?.onLoss(of: segment)
            sendRenoSegments()
        case .utp:
            preconditionFailure("a uTP datagram is not the Reno flow's")
        }
    }

    private mutating func sendRenoSegments() {
        guard let segments = reno?.segmentsToSend(now: now) else { return }
        let forward = profiles[2] ?? LinkProfile()
        let backward = profiles[1] ?? LinkProfile()
        for segment in segments {
            if let departure = enterBottleneck(size: SimulatedRenoFlow.segmentSize, toward: 2) {
                enqueue(InFlight(deliverAt: departure &+ forward.delay, order: 0, from: 1, to: 2, payload: .renoSegment(segment)))
            } else {
                // The queue was full: the duplicate ACKs that reveal the drop arrive about when
                // this segment's own ACK would have, behind a full queue.
                let noticeAt = now &+ UInt64(forward.queueLimit * 1e9) &+ forward.delay &+ backward.delay
                enqueue(InFlight(deliverAt: noticeAt, order: 0, from: 2, to: 1, payload: .renoLoss(segment)))
            }
        }
    }
}
