import Foundation
import NIOCore
import NIOPosix
import UTP

/// uTP over UDP: the thin NIO layer around `UTPSocketManager`. Datagrams come either from a
/// socket of its own (`bind`; a KRPC datagram on it goes to `onKRPC`) or from the DHT's
/// sockets, which demultiplex on the first byte and hand the uTP ones over (`attach`, DESIGN
/// §8). It writes out what the manager sends, runs one timer at the manager's next wake-up,
/// and tells streams when their send queue drains.
///
/// Event-loop confined: create it with `bind` or `attach`, then call everything (and set
/// callbacks) on `eventLoop`.
public final class UTPSocket {
    public typealias Key = UTPConnectionKey<SocketAddress>

    public let eventLoop: EventLoop
    private var manager: UTPSocketManager<SocketAddress>
    private let outlet: UTPDatagramOutlet
    private var ownChannel: Channel?
    private var streams: [Key: UTPStream] = [:]
    private var random = SystemRandomNumberGenerator()
    private var wake: Scheduled<Void>?
    private var wakeAt: NIODeadline?
    private var pendingFlush = false
    /// Streams that received bytes in the current read batch (one read-complete each).
    private var readThisBatch: [UTPStream] = []
    /// Streams whose writer was told to wait; told again once the queue drains.
    private var blockedWriters: Set<Key> = []
    /// After `close`, datagrams still handed over (the DHT's socket outlives us) are dropped.
    private var isClosed = false
    /// The once-a-second LEDBAT trace (`BITFOUNTAIN_UTP_TRACE=1`), while the socket is open.
    private var trace: RepeatedTask?

    /// A new incoming stream, handed over once the initiator confirmed it (its first packet
    /// after our SYN-ACK): a SYN alone, forged or flooded, builds no stream for the node.
    public var onAccept: ((UTPStream) -> Void)?
    /// A datagram that starts with `d` (a KRPC message) on a socket of our own.
    public var onKRPC: ((AddressedEnvelope<ByteBuffer>) -> Void)?

    /// Back-pressure toward writers: a stream is unwritable above `high` queued bytes and
    /// writable again below `low` (as the TCP channels' write-buffer water mark).
    public static let highWaterMark = 4 << 20
    public static let lowWaterMark = 1 << 20

    private init(eventLoop: EventLoop, outlet: UTPDatagramOutlet, configuration: UTPSocketManager<SocketAddress>.Configuration) {
        self.eventLoop = eventLoop
        self.outlet = outlet
        self.manager = UTPSocketManager(configuration: configuration)
        if UTPTrace.enabled { startTrace() }
    }

    private func startTrace() {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        trace = eventLoop.scheduleRepeatedTask(initialDelay: UTPTrace.interval, delay: UTPTrace.interval) { _ in
            let socket = bound.value
            let now = Date()
            UTPTrace.write(socket.manager.connectionKeys.compactMap { key in
                socket.manager.connection(key).map { UTPTrace.line(key, $0.statistics, at: now) }
            })
        }
    }

    /// Binds a UDP socket of its own on `host:port` (port 0: any) and returns the uTP socket on it.
    public static func bind(
        host: String, port: Int, on eventLoop: EventLoop,
        configuration: UTPSocketManager<SocketAddress>.Configuration = .init()
    ) async throws -> NIOLoopBound<UTPSocket> {
        let socket = try await eventLoop.submit {
            NIOLoopBound(UTPSocket(eventLoop: eventLoop, outlet: UTPDatagramOutlet(), configuration: configuration), eventLoop: eventLoop)
        }.get()
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 2_048))
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 21)
            .channelOption(.socketOption(.so_sndbuf), value: 1 << 21)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UTPDatagramHandler(socket: socket.value))
                }
            }
            .bind(host: host, port: port).get()
        try await eventLoop.submit {
            socket.value.ownChannel = channel
            socket.value.outlet.add(channel)
        }.get()
        return socket
    }

    /// A uTP socket that sends on `channels` (the DHT's, one per address family, possibly on
    /// another event loop) and is fed their uTP datagrams through `receive(batch:)`.
    public static func attach(
        to channels: [Channel], on eventLoop: EventLoop,
        configuration: UTPSocketManager<SocketAddress>.Configuration = .init()
    ) async throws -> NIOLoopBound<UTPSocket> {
        try await eventLoop.submit {
            let outlet = UTPDatagramOutlet()
            for channel in channels { outlet.add(channel) }
            return NIOLoopBound(UTPSocket(eventLoop: eventLoop, outlet: outlet, configuration: configuration), eventLoop: eventLoop)
        }.get()
    }

    public var localAddress: SocketAddress? { outlet.localAddresses.first }
    /// Whether a datagram to `address` has a socket of its family.
    public func canReach(_ address: SocketAddress) -> Bool { outlet.hasChannel(for: address) }
    public var statistics: UTPSocketManager<SocketAddress>.Statistics { manager.statistics }
    public var connectionCount: Int { manager.connectionCount }

    /// Opens a stream to `address`. Writes before the handshake completes are queued.
    public func connect(to address: SocketAddress) -> UTPStream? {
        eventLoop.preconditionInEventLoop()
        guard !isClosed, canReach(address) else { return nil }
        let result = manager.connect(to: address, now: .now(), random: &random)
        guard let key = result.key else { return nil }
        let stream = UTPStream(key: key, socket: self, isAccepted: true)
        streams[key] = stream
        apply(result.output)
        return stream
    }

    /// Closes every stream with ST_RESET, and the socket if it is our own.
    public func close() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        isClosed = true
        trace?.cancel()
        trace = nil
        for key in Array(streams.keys) { apply(manager.abort(key, now: .now())) }
        wake?.cancel()
        wake = nil
        return ownChannel?.close() ?? eventLoop.makeSucceededVoidFuture()
    }

    // MARK: Input

    /// A batch of uTP datagrams the DHT's sockets read (attached sockets).
    public func receive(batch: [AddressedEnvelope<ByteBuffer>]) {
        eventLoop.preconditionInEventLoop()
        for envelope in batch { receive(envelope) }
        readComplete()
    }

    func receive(_ envelope: AddressedEnvelope<ByteBuffer>) {
        guard !isClosed else { return }
        switch UTPDatagramKind.classify(envelope.data.readableBytesView) {
        case .krpc:
            onKRPC?(envelope)
        case .utp:
            let output = manager.receive(
                envelope.data, from: envelope.remoteAddress, now: .now(), random: &random, deferringAcks: true)
            apply(output, flushNow: false)
        case .unknown:
            break
        }
    }

    /// One batch of reads is over: the ACKs the batch owes go out (one per connection, not one
    /// per datagram), streams that got bytes hear it once, and what the batch produced goes
    /// out in one flush.
    func readComplete() {
        apply(manager.sendDeferredAcks(now: .now()), flushNow: false)
        let read = readThisBatch
        readThisBatch.removeAll(keepingCapacity: true)
        for stream in read { stream.onReadComplete?() }
        if pendingFlush {
            pendingFlush = false
            outlet.flush()
        }
    }

    // MARK: From streams

    func send(_ buffers: [ByteBuffer], on key: Key) {
        let now = NIODeadline.now()
        for bytes in buffers { apply(manager.send(bytes, on: key, now: now), flushNow: false) }
        if pendingFlush {
            pendingFlush = false
            outlet.flush()
        }
    }

    /// Whether `key`'s writer should wait; if so, its stream hears `onWritable` once it may go on.
    func isCongested(_ key: Key) -> Bool {
        guard let queued = manager.bufferedSendBytes(on: key), queued >= Self.highWaterMark else { return false }
        blockedWriters.insert(key)
        return true
    }

    func close(_ key: Key) { apply(manager.close(key, now: .now())) }
    func abort(_ key: Key) { apply(manager.abort(key, now: .now())) }

    // MARK: Output

    private func apply(_ output: UTPSocketManager<SocketAddress>.Output, flushNow: Bool = true) {
        for datagram in output.datagrams {
            outlet.write(AddressedEnvelope(remoteAddress: datagram.address, data: datagram.bytes))
        }
        if !output.datagrams.isEmpty { pendingFlush = true }
        for event in output.events { handle(event) }
        if !blockedWriters.isEmpty { releaseWriters() }
        if pendingFlush, flushNow {
            pendingFlush = false
            outlet.flush()
        }
        schedule(output.nextWakeup)
    }

    private func releaseWriters() {
        for key in blockedWriters where (manager.bufferedSendBytes(on: key) ?? 0) < Self.lowWaterMark {
            blockedWriters.remove(key)
            streams[key]?.onWritable?()
        }
    }

    private func handle(_ event: UTPSocketManager<SocketAddress>.Event) {
        switch event {
        case .accepted(let key):
            streams[key] = UTPStream(key: key, socket: self, isAccepted: false)
        case .connected(let key):
            guard let stream = streams[key] else { return }
            if stream.isAccepted { stream.onConnect?() } else { handOver(stream) }
        case .delivered(let key, let bytes):
            guard let stream = streams[key] else { return }
            if !stream.isAccepted { handOver(stream) }
            if stream.onReadComplete != nil, !readThisBatch.contains(where: { $0 === stream }) { readThisBatch.append(stream) }
            stream.onRead?(bytes)
            // The callback took the bytes (the pipeline cumulates them): the window reopens at once.
            let consumed = manager.consumed(bytes.readableBytes, on: key, now: .now(), deferringAck: true)
            for datagram in consumed.datagrams {
                outlet.write(AddressedEnvelope(remoteAddress: datagram.address, data: datagram.bytes))
                pendingFlush = true
            }
        case .endOfStream(let key):
            streams[key]?.onEnd?()
        case .closed(let key, let reason):
            blockedWriters.remove(key)
            guard let stream = streams.removeValue(forKey: key), stream.isAccepted else { return }
            stream.onClose?(reason)
        }
    }

    /// An incoming stream confirmed by its initiator goes to the node.
    private func handOver(_ stream: UTPStream) {
        stream.isAccepted = true
        onAccept?(stream)
    }

    private func schedule(_ deadline: NIODeadline?) {
        guard let deadline else { return }
        if let wakeAt, wakeAt <= deadline, wake != nil { return }
        wake?.cancel()
        wakeAt = deadline
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        wake = eventLoop.scheduleTask(deadline: deadline) { bound.value.wakeUp() }
    }

    private func wakeUp() {
        wake = nil
        wakeAt = nil
        apply(manager.tick(now: .now()))
        if wake == nil { schedule(manager.nextWakeup) }
    }
}

/// One uTP byte stream. Event-loop confined, like its socket.
public final class UTPStream {
    public let key: UTPSocket.Key
    private unowned let socket: UTPSocket
    /// Ours, or an incoming one already handed to `onAccept`.
    var isAccepted: Bool

    /// The handshake completed (streams we opened).
    public var onConnect: (() -> Void)?
    /// Stream bytes, in order.
    public var onRead: ((ByteBuffer) -> Void)?
    /// The datagrams of one read batch are processed (after their `onRead`s).
    public var onReadComplete: (() -> Void)?
    /// The send queue drained below the low water mark after `isCongested` said wait.
    public var onWritable: (() -> Void)?
    /// The peer finished sending (its FIN).
    public var onEnd: (() -> Void)?
    public var onClose: ((UTPCloseReason) -> Void)?

    init(key: UTPSocket.Key, socket: UTPSocket, isAccepted: Bool) {
        self.key = key
        self.socket = socket
        self.isAccepted = isAccepted
    }

    public var remoteAddress: SocketAddress { key.address }
    public var localAddress: SocketAddress? { socket.localAddress }
    public var eventLoop: EventLoop { socket.eventLoop }

    public func write(_ bytes: ByteBuffer) { socket.send([bytes], on: key) }
    /// Queues several buffers and sends what the windows allow in one flush.
    public func write(_ buffers: [ByteBuffer]) { socket.send(buffers, on: key) }
    /// Whether the writer should wait for `onWritable` before writing more.
    public var isCongested: Bool { socket.isCongested(key) }
    /// Half-closes after the queued bytes (FIN).
    public func close() { socket.close(key) }
    public func abort() { socket.abort(key) }
}

/// The socket's only channel handler when it has a socket of its own.
final class UTPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let socket: UTPSocket

    init(socket: UTPSocket) {
        self.socket = socket
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        socket.receive(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        socket.readComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port-unreachable surfaces here on Linux; the connection's timers handle the peer.
    }
}
