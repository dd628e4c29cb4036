import CUDPBatch
import DHT
import Foundation
import Identity
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One router worker: a thread with its own UDP socket per family (all
/// workers share the port through SO_REUSEPORT, and the kernel hashes each
/// source to one of them), its own `RouterCore` and its own share of the
/// contact rings. The loop reads datagrams with recvmmsg, lets the core write
/// the replies into the batch's send buffers, and sends them with one
/// sendmmsg: no locks, no allocation, no atomics per packet. Counters are
/// published once a second through a mutex that only the publisher contends.
final class RouterWorker: @unchecked Sendable {
    struct Snapshot: Sendable {
        var counters = RouterCounters()
        var contacts4 = 0
        var contacts6 = 0
        var pendingAdmissions = 0
        /// The saved contacts are all checked and indexed (see `ContactRing.continueIndexing`).
        var restored = false
    }

    let index: Int
    private let sockets: [(family: IPAddress.Family, descriptor: Int32)]
    private let makeCore: @Sendable () -> RouterCore
    private let exchange: RouterContactExchange
    private let published = Mutex(Snapshot())
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    static let batchSize = 64
    /// Bytes per receive and send slot (more than `KRPCDecoder.maxPacketSize`; a longer
    /// datagram arrives truncated and is counted as oversized).
    static let slotSize = 2_048
    static let publishInterval: UInt64 = 1_000_000_000
    static let exchangeInterval: UInt64 = 200_000_000
    /// Saved entries indexed per loop turn while restoring (a few milliseconds' work).
    static let indexingSlice = 32_768

    init(index: Int, sockets: [(family: IPAddress.Family, descriptor: Int32)], exchange: RouterContactExchange,
         makeCore: @escaping @Sendable () -> RouterCore) {
        self.index = index
        self.sockets = sockets
        self.exchange = exchange
        self.makeCore = makeCore
    }

    var snapshot: Snapshot { published.withLock { $0 } }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "router-\(index)"
        thread.start()
    }

    /// Asks the loop to stop; `join` waits until it has.
    func requestStop() { stopRequested.store(true, ordering: .relaxed) }

    func join() {
        finished.wait()
        for socket in sockets { close(socket.descriptor) }
    }

    /// Wall-clock time, which the core is driven with (it persists "last seen").
    static var now: DHTInstant {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return DHTInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }

    private func run() {
        var core = makeCore()
        guard let batch = bf_udp_batch_create(Int32(Self.batchSize), Int32(Self.slotSize)) else { return }
        defer { bf_udp_batch_destroy(batch) }
        let descriptors = sockets.map(\.descriptor)
        var lastPublish = DHTInstant.zero
        var lastExchange = DHTInstant.zero
        var ready = [UInt8](repeating: 0, count: descriptors.count)
        var restored = core.isRestored
        publish(core)
        while !stopRequested.load(ordering: .relaxed) {
            // After a restart the saved contacts are served at once; indexing them goes on between reads.
            if !restored {
                restored = core.continueRestoring(budget: Self.indexingSlice)
                if restored { publish(core) }
            }
            let timeout: Int32 = restored ? 100 : 0
            _ = descriptors.withUnsafeBufferPointer { fds in
                ready.withUnsafeMutableBufferPointer { bf_udp_wait(fds.baseAddress, Int32(fds.count), timeout, $0.baseAddress) }
            }
            let now = Self.now
            for (position, socket) in sockets.enumerated() where ready[position] != 0 {
                drain(socket.descriptor, batch: batch, core: &core, now: now)
            }
            sendDuePings(batch: batch, core: &core, now: now)
            if now.nanoseconds &- lastExchange.nanoseconds >= Self.exchangeInterval {
                exchange.trade(worker: index, core: &core)
                lastExchange = now
            }
            if now.nanoseconds &- lastPublish.nanoseconds >= Self.publishInterval {
                publish(core)
                lastPublish = now
            }
        }
        publish(core)
    }

    /// Reads and answers until the socket is empty (bounded, so that the other
    /// socket and the pings get their turn under a flood).
    private func drain(_ descriptor: Int32, batch: OpaquePointer, core: inout RouterCore, now: DHTInstant) {
        for _ in 0..<16 {
            let received = Int(bf_udp_batch_receive(batch, descriptor))
            guard received > 0 else { return }
            var replies: Int32 = 0
            for slot in 0..<Int32(received) {
                if bf_udp_batch_in_truncated(batch, slot) != 0 {
                    core.counters.droppedOversized += 1
                    continue
                }
                guard let source = Self.source(batch, slot) else { continue }
                let packet = UnsafeRawBufferPointer(start: bf_udp_batch_in_data(batch, slot),
                                                    count: Int(bf_udp_batch_in_length(batch, slot)))
                let out = UnsafeMutableRawBufferPointer(start: bf_udp_batch_out_data(batch, replies), count: Self.slotSize)
                let length = core.receive(packet, from: source, now: now, reply: out)
                if length > 0 {
                    Self.address(batch, replies, length: length, to: source)
                    replies += 1
                }
            }
            if replies > 0 { _ = bf_udp_batch_send(batch, descriptor, replies) }
            if received < Self.batchSize { return }
        }
    }

    /// Admission pings whose time has come, in batches: IPv4 ones fill the
    /// send slots from the front, IPv6 ones from the back, and each run goes
    /// out through its family's socket.
    private func sendDuePings(batch: OpaquePointer, core: inout RouterCore, now: DHTInstant) {
        guard let due = core.nextWakeup, due <= now else { return }
        let v4 = sockets.first { $0.family == .v4 }?.descriptor
        let v6 = sockets.first { $0.family == .v6 }?.descriptor
        let size = Int32(Self.batchSize)
        var more = true
        while more {
            var low: Int32 = 0
            var high = size
            while low < high {
                let slot = bf_udp_batch_out_data(batch, low)!
                guard let (address, length) = core.nextDuePing(now: now, into: UnsafeMutableRawBufferPointer(start: slot, count: Self.slotSize))
                else {
                    more = false
                    break
                }
                if address.family == .v4 {
                    Self.address(batch, low, length: length, to: address)
                    low += 1
                } else {
                    high -= 1
                    if high != low { bf_udp_batch_out_data(batch, high)!.update(from: slot, count: length) }
                    Self.address(batch, high, length: length, to: address)
                }
            }
            if low > 0, let v4 { _ = bf_udp_batch_send_from(batch, v4, 0, low) }
            if high < size, let v6 { _ = bf_udp_batch_send_from(batch, v6, high, size - high) }
        }
    }

    /// Counters and ring sizes for the metrics (contacts go through `exchange`).
    private func publish(_ core: borrowing RouterCore) {
        let snapshot = Snapshot(counters: core.counters, contacts4: core.ring4.count, contacts6: core.ring6.count,
                                pendingAdmissions: core.pendingAdmissions, restored: core.isRestored)
        published.withLock { $0 = snapshot }
    }

    @inline(__always)
    private static func source(_ batch: OpaquePointer, _ slot: Int32) -> NodeAddress? {
        let port = bf_udp_batch_in_port(batch, slot)
        switch bf_udp_batch_in_family(batch, slot) {
        case 4:
            return NodeAddress(ip: .v4(bf_udp_batch_in_v4(batch, slot)), port: port)
        case 6:
            var high: UInt64 = 0, low: UInt64 = 0
            bf_udp_batch_in_v6(batch, slot, &high, &low)
            return NodeAddress(ip: .v6(high, low), port: port)
        default:
            return nil
        }
    }

    @inline(__always)
    private static func address(_ batch: OpaquePointer, _ slot: Int32, length: Int, to destination: NodeAddress) {
        switch destination.ip {
        case .v4(let value): bf_udp_batch_out_set_v4(batch, slot, Int32(length), value, destination.port)
        case .v6(let high, let low): bf_udp_batch_out_set_v6(batch, slot, Int32(length), high, low, destination.port)
        }
    }
}
