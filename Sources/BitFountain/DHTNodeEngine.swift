import DHT
import Identity
import NIOCore

/// What a lookup started through `DHTNode` reports as it goes.
public enum DHTLookupUpdate: Sendable {
    case peers([NodeAddress])
    case samples(SampleReply)
    /// BEP 44 get: a valid item (each newer version of a mutable one).
    case item(ItemReply)
    /// One traversal (one per address family) finished.
    case finished(TraversalSummary)
}

/// The event-loop side of a DHT node: owns the sans-I/O core and the UDP
/// channels, feeds datagrams and timer ticks to the core, writes out what it
/// wants sent, and hands its events to whoever is waiting. Every method runs
/// on `eventLoop` (reached through `NIOLoopBound`), so no locks are needed.
final class DHTNodeEngine {
    let eventLoop: EventLoop
    var core: DHTCore
    var channels: [IPAddress.Family: Channel] = [:]
    private var wake: Scheduled<Void>?
    private var wakeAt: DHTInstant?
    private var waiters: [DHTOperation: Waiter] = [:]
    private var groups: [Int: LookupGroup] = [:]
    private var nextGroup = 0
    private(set) var isStopped = false
    /// Where uTP datagrams on the DHT's sockets go (`DHTNode.deliverUTP`); nil drops them.
    var utpReceiver: (@Sendable ([AddressedEnvelope<ByteBuffer>]) -> Void)?
    /// Background tasks (state saving, bootstrap resolution), cancelled on stop.
    var tasks: [Task<Void, Never>] = []

    private enum Waiter {
        case ping(EventLoopPromise<PingReply?>)
        case sample(EventLoopPromise<SampleReply?>)
        case lookup(group: Int)
    }

    private struct LookupGroup {
        var continuation: AsyncStream<DHTLookupUpdate>.Continuation
        var remaining: Int
    }

    init(eventLoop: EventLoop, core: DHTCore) {
        self.eventLoop = eventLoop
        self.core = core
    }

    static var now: DHTInstant { DHTInstant(nanoseconds: NIODeadline.now().uptimeNanoseconds) }

    // MARK: Input

    func receive(_ bytes: UnsafeRawBufferPointer, from source: NodeAddress) {
        guard !isStopped else { return }
        core.receive(bytes, from: source, now: Self.now)
    }

    /// After a batch of reads: send the replies in one flush.
    func afterReads() {
        flush()
    }

    private func wakeUp() {
        wakeAt = nil
        wake = nil
        guard !isStopped else { return }
        core.tick(now: Self.now)
        flush()
    }

    // MARK: Output

    /// Writes what the core wants sent, delivers its events, re-arms the timer.
    func flush() {
        let outgoing = core.takeOutgoing()
        if !outgoing.isEmpty {
            var used: Set<IPAddress.Family> = []
            for datagram in outgoing {
                guard let channel = channels[datagram.destination.family] else { continue }
                var buffer = channel.allocator.buffer(capacity: datagram.bytes.count)
                buffer.writeBytes(datagram.bytes)
                channel.write(AddressedEnvelope(remoteAddress: datagram.destination.socketAddress, data: buffer), promise: nil)
                used.insert(datagram.destination.family)
            }
            for family in used { channels[family]?.flush() }
        }
        for event in core.takeEvents() { deliver(event) }
        rearm()
    }

    private func rearm() {
        guard !isStopped else { return }
        let next = core.nextWakeup
        if let wakeAt, wakeAt <= next { return }
        wake?.cancel()
        wakeAt = next
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        wake = eventLoop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(next.nanoseconds)) { bound.value.wakeUp() }
    }

    private func deliver(_ event: DHTEvent) {
        switch event {
        case .pong(let operation, let reply):
            if case .ping(let promise) = waiters.removeValue(forKey: operation) { promise.succeed(reply) }
        case .requestFailed(let operation, _, _):
            switch waiters.removeValue(forKey: operation) {
            case .ping(let promise): promise.succeed(nil)
            case .sample(let promise): promise.succeed(nil)
            default: break
            }
        case .samples(let operation, let reply):
            switch waiters[operation] {
            case .sample(let promise):
                waiters[operation] = nil
                promise.succeed(reply)
            case .lookup(let group):
                groups[group]?.continuation.yield(.samples(reply))
            default:
                break
            }
        case .peers(let operation, let peers):
            if case .lookup(let group) = waiters[operation] { groups[group]?.continuation.yield(.peers(peers)) }
        case .finished(let operation, let summary):
            guard case .lookup(let group) = waiters.removeValue(forKey: operation), var entry = groups[group] else { return }
            entry.continuation.yield(.finished(summary))
            entry.remaining -= 1
            if entry.remaining == 0 {
                entry.continuation.finish()
                groups[group] = nil
            } else {
                groups[group] = entry
            }
        case .item(let operation, let reply):
            if case .lookup(let group) = waiters[operation] { groups[group]?.continuation.yield(.item(reply)) }
        case .nodeIDChanged:
            break
        }
    }

    // MARK: Operations (called on the loop)

    var families: [IPAddress.Family] { IPAddress.Family.allCases.filter { channels[$0] != nil } }

    func ping(_ address: NodeAddress) -> EventLoopFuture<PingReply?> {
        let promise = eventLoop.makePromise(of: PingReply?.self)
        guard !isStopped, channels[address.family] != nil else {
            promise.succeed(nil)
            return promise.futureResult
        }
        waiters[core.ping(address, now: Self.now)] = .ping(promise)
        flush()
        return promise.futureResult
    }

    func sample(_ address: NodeAddress) -> EventLoopFuture<SampleReply?> {
        let promise = eventLoop.makePromise(of: SampleReply?.self)
        guard !isStopped, channels[address.family] != nil else {
            promise.succeed(nil)
            return promise.futureResult
        }
        waiters[core.sampleInfohashes(at: address, now: Self.now)] = .sample(promise)
        flush()
        return promise.futureResult
    }

    /// Starts one traversal per family and streams their updates together.
    func lookup(_ continuation: AsyncStream<DHTLookupUpdate>.Continuation,
                start: (inout DHTCore, IPAddress.Family, DHTInstant) -> DHTOperation) {
        let families = self.families
        guard !isStopped, !families.isEmpty else {
            continuation.finish()
            return
        }
        let group = nextGroup
        nextGroup += 1
        groups[group] = LookupGroup(continuation: continuation, remaining: families.count)
        let now = Self.now
        for family in families { waiters[start(&core, family, now)] = .lookup(group: group) }
        flush()
    }

    func learnedNode(_ address: NodeAddress) {
        guard !isStopped, channels[address.family] != nil else { return }
        core.learnedNode(address, now: Self.now)
        flush()
    }

    func externalAddressReported(_ address: IPAddress) {
        guard !isStopped else { return }
        core.externalAddressReported(address, now: Self.now)
        flush()
    }

    func setBootstrapNodes(_ addresses: [NodeAddress]) {
        guard !isStopped else { return }
        core.setBootstrapNodes(addresses, now: Self.now)
        flush()
    }

    func restore(_ snapshot: DHTStateSnapshot) {
        core.restore(snapshot, now: Self.now)
        flush()
    }

    /// Stops timers and answers everyone still waiting; returns the state to save.
    func stop() -> DHTStateSnapshot {
        isStopped = true
        wake?.cancel()
        wake = nil
        for task in tasks { task.cancel() }
        for (_, waiter) in waiters {
            switch waiter {
            case .ping(let promise): promise.succeed(nil)
            case .sample(let promise): promise.succeed(nil)
            case .lookup: break
            }
        }
        waiters = [:]
        for (_, group) in groups { group.continuation.finish() }
        groups = [:]
        return core.snapshot()
    }
}
