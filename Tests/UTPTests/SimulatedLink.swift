import NIOCore
@testable import UTP

/// One direction of a simulated path: propagation delay, an optional bottleneck of fixed rate
/// with a drop-tail queue, random loss, duplication and reordering, and unresponsive cross
/// traffic sharing the bottleneck. Time is virtual (nanoseconds).
struct LinkProfile {
    var delay: UInt64 = 10_000_000
    /// Bottleneck rate in bits per second; nil for an unlimited link.
    var rate: Double?
    /// Drop-tail queue limit, in seconds of queued transmission at `rate`.
    var queueLimit: Double = 1.0
    var loss: Double = 0
    var duplication: Double = 0
    /// Probability that a datagram takes an extra random delay of up to `reorderSpread`.
    var reordering: Double = 0
    var reorderSpread: UInt64 = 20_000_000
}

/// A datagram in flight on the simulated network: a uTP datagram, or a packet of the simulated
/// TCP-like flow (`SimulatedRenoFlow`), which has no bytes worth carrying.
struct InFlight {
    enum Payload {
        case utp(ByteBuffer)
        case renoSegment(UInt64)
        case renoAck(UInt64)
        /// The Reno sender learns that this segment was dropped (its duplicate ACKs arrived).
        case renoLoss(UInt64)
    }

    var deliverAt: UInt64
    var order: Int
    var from: Int
    var to: Int
    var payload: Payload
}

/// Two `UTPSocketManager`s (addresses 1 and 2) joined by a simulated link, driven event by event
/// on a virtual clock. Tests open a connection from 1 to 2, stream bytes and check what arrives.
struct SimulatedNetwork {
    var managers: [Int: UTPSocketManager<Int>]
    var profiles: [Int: LinkProfile]  // keyed by the receiving address
    var now: UInt64 = 1_000_000_000
    private var inFlight = EventQueue()
    private var order = 0
    private var random: SeededGenerator
    private var dropNoise = SeededGenerator(seed: 0xD209)
    private var linkFreeAt: [Int: UInt64] = [:]
    private var crossUpdatedAt: [Int: UInt64] = [:]
    /// A loss-based TCP-like flow sharing the bottleneck toward address 2, if started.
    var reno: SimulatedRenoFlow?
    /// Fraction of the bottleneck toward an address taken by unresponsive cross traffic.
    var crossTraffic: [Int: Double] = [:]
    /// (time, queuing delay in ns) for every datagram that entered a bottleneck queue.
    var queueSamples: [(time: UInt64, delay: UInt64)] = []
    var events: [(time: UInt64, event: UTPSocketManager<Int>.Event)] = []
    /// Injected datagrams (an attacker at `from`) go through here too.
    var dropped = 0

    init(configuration: UTPSocketManager<Int>.Configuration = .init(), toA: LinkProfile = .init(), toB: LinkProfile = .init(), seed: UInt64 = 1) {
        managers = [1: UTPSocketManager(configuration: configuration), 2: UTPSocketManager(configuration: configuration)]
        profiles = [1: toA, 2: toB]
        random = SeededGenerator(seed: seed)
    }

    var deadline: NIODeadline { .uptimeNanoseconds(now) }

    /// Puts a datagram on the wire from `from` to `to` at the current time.
    mutating func transmit(_ bytes: ByteBuffer, from: Int, to: Int) {
        let profile = profiles[to] ?? LinkProfile()
        if Double.random(in: 0..<1, using: &random) < profile.loss {
            dropped += 1
            return
        }
        guard let departure = enterBottleneck(size: bytes.readableBytes, toward: to) else { return }
        var arrival = departure &+ profile.delay
        if Double.random(in: 0..<1, using: &random) < profile.reordering {
            arrival &+= UInt64.random(in: 0...profile.reorderSpread, using: &random)
        }
        enqueue(InFlight(deliverAt: arrival, order: order, from: from, to: to, payload: .utp(bytes)))
        if Double.random(in: 0..<1, using: &random) < profile.duplication {
            enqueue(InFlight(deliverAt: arrival &+ 1_000, order: order, from: from, to: to, payload: .utp(bytes)))
        }
    }

    /// Queues `size` bytes at the bottleneck toward `to` (shared by every flow headed there) and
    /// returns when they leave it, or nil when the drop-tail queue is full.
    mutating func enterBottleneck(size: Int, toward to: Int) -> UInt64? {
        let profile = profiles[to] ?? LinkProfile()
        guard let rate = profile.rate else { return now }
        let fraction = crossTraffic[to] ?? 0
        let free = linkFreeAt[to] ?? now
        let lastCross = crossUpdatedAt[to] ?? now
        // Cross traffic is a fluid: it adds `fraction` of every elapsed second as queued work.
        var busyUntil = max(free, lastCross) &+ UInt64(fraction * Double(now &- lastCross))
        crossUpdatedAt[to] = now
        busyUntil = max(busyUntil, now)
        let queued = busyUntil - now
        // Up to 1 ms of timing noise on the drop decision: a perfectly deterministic drop-tail
        // queue locks flows into phase (Floyd and Jacobson, 1992), and one flow's packets then
        // take every drop. Drawn from its own generator so the other draws stay as they were.
        let noise = Double(queued) / 1e9 > profile.queueLimit - 0.001 ? Double.random(in: 0..<0.001, using: &dropNoise) : 0
        if Double(queued) / 1e9 + noise > profile.queueLimit {
            linkFreeAt[to] = busyUntil
            dropped += 1
            return nil
        }
        queueSamples.append((now, queued))
        let departure = busyUntil &+ UInt64(Double(size * 8) / rate * 1e9)
        linkFreeAt[to] = departure
        return departure
    }

    mutating func enqueue(_ datagram: InFlight) {
        order += 1
        var datagram = datagram
        datagram.order = order
        inFlight.push(datagram)
    }

    mutating func apply(_ output: UTPSocketManager<Int>.Output, at address: Int) {
        for datagram in output.datagrams { transmit(datagram.bytes, from: address, to: datagram.address) }
        for event in output.events { events.append((now, event)) }
    }

    /// Lets `body` act on manager `address` and sends what it produced.
    mutating func act(_ address: Int, _ body: (inout UTPSocketManager<Int>, NIODeadline, inout SeededGenerator) -> UTPSocketManager<Int>.Output) {
        // Datagrams to addresses with no manager (a flood's forged sources) vanish.
        guard managers[address] != nil else { return }
        let output = body(&managers[address]!, deadline, &random)
        apply(output, at: address)
    }

    /// Opens a connection from 1 to 2 and returns its key at 1.
    mutating func connect(from: Int = 1, to: Int = 2) -> UTPConnectionKey<Int> {
        var key: UTPConnectionKey<Int>?
        act(from) { manager, now, random in
            let result = manager.connect(to: to, now: now, random: &random)
            key = result.key
            return result.output
        }
        return key!
    }

    /// Advances to the next event (a delivery or a timer) no later than `limit`; returns false
    /// when there is none. New events are appended to `events`; the caller reacts to them.
    mutating func step(until limit: UInt64) -> Bool {
        let nextDelivery = inFlight.first
        let nextTimer = managers.values.compactMap(\.nextWakeup).min()?.uptimeNanoseconds
        let next = [nextDelivery?.deliverAt, nextTimer].compactMap { $0 }.min()
        guard let next, next <= limit else { return false }
        now = max(now, next)
        if let delivery = nextDelivery, delivery.deliverAt <= now {
            _ = inFlight.pop()
            switch delivery.payload {
            case .utp(let bytes):
                act(delivery.to) { manager, now, random in
                    manager.receive(bytes, from: delivery.from, now: now, random: &random)
                }
            case .renoSegment, .renoAck, .renoLoss:
                deliverReno(delivery)
            }
        } else {
            for address in managers.keys.sorted() {
                if let due = managers[address]!.nextWakeup, due.uptimeNanoseconds <= now {
                    act(address) { manager, now, _ in manager.tick(now: now) }
                }
            }
        }
        return true
    }
}

/// The test stream: a byte pattern that never repeats with a short period, so a reordered or
/// duplicated chunk cannot go unnoticed.
enum TestStream {
    static func byte(at index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (index &* 2_654_435_761) >> 11 ^ index)
    }

    static func bytes(_ range: Range<Int>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(range.count)
        for index in range { buffer.writeInteger(byte(at: index)) }
        return buffer
    }
}

/// Checks a received stream byte by byte against `TestStream` as it arrives.
struct StreamChecker {
    private(set) var received = 0
    private(set) var firstMismatch: Int?

    mutating func check(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                if firstMismatch == nil, byte != TestStream.byte(at: received) { firstMismatch = received }
                received += 1
            }
        }
    }
}
