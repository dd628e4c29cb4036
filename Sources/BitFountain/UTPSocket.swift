import NIOCore
import NIOPosix
import UTP

/// uTP over one UDP socket: the thin NIO layer around `UTPSocketManager`. It binds the socket,
/// demultiplexes each datagram on its first byte (DESIGN §8: uTP to the manager, KRPC to
/// `onKRPC`, so the DHT can share the port once it moves onto this socket), writes out what the
/// manager sends, and runs one timer at the manager's next wake-up.
///
/// Event-loop confined: create it with `bind`, then call everything (and set callbacks) on
/// `eventLoop`. Not yet wired into the node: see issue 12.
public final class UTPSocket {
    public typealias Key = UTPConnectionKey<SocketAddress>

    public let eventLoop: EventLoop
    private var manager: UTPSocketManager<SocketAddress>
    private var channel: Channel?
    private var streams: [Key: UTPStream] = [:]
    private var random = SystemRandomNumberGenerator()
    private var wake: Scheduled<Void>?
    private var wakeAt: NIODeadline?
    private var pendingFlush = false

    /// A new incoming stream (already accepted; it opens once the initiator's first packet arrives).
    public var onAccept: ((UTPStream) -> Void)?
    /// A datagram that starts with `d` (a KRPC message) for the DHT.
    public var onKRPC: ((AddressedEnvelope<ByteBuffer>) -> Void)?

    private init(eventLoop: EventLoop, configuration: UTPSocketManager<SocketAddress>.Configuration) {
        self.eventLoop = eventLoop
        self.manager = UTPSocketManager(configuration: configuration)
    }

    /// Binds a UDP socket on `host:port` (port 0: any) and returns the uTP socket on it.
    public static func bind(
        host: String, port: Int, on eventLoop: EventLoop,
        configuration: UTPSocketManager<SocketAddress>.Configuration = .init()
    ) async throws -> NIOLoopBound<UTPSocket> {
        let socket = try await eventLoop.submit {
            NIOLoopBound(UTPSocket(eventLoop: eventLoop, configuration: configuration), eventLoop: eventLoop)
        }.get()
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 21)
            .channelOption(.socketOption(.so_sndbuf), value: 1 << 21)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UTPDatagramHandler(socket: socket.value))
                }
            }
            .bind(host: host, port: port).get()
        try await eventLoop.submit { socket.value.channel = channel }.get()
        return socket
    }

    public var localAddress: SocketAddress? { channel?.localAddress }

    /// Opens a stream to `address`. Writes before the handshake completes are queued.
    public func connect(to address: SocketAddress) -> UTPStream? {
        eventLoop.preconditionInEventLoop()
        let result = manager.connect(to: address, now: .now(), random: &random)
        guard let key = result.key else { return nil }
        let stream = UTPStream(key: key, socket: self)
        streams[key] = stream
        apply(result.output)
        return stream
    }

    /// Closes every stream with ST_RESET and the socket.
    public func close() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        for key in Array(streams.keys) { apply(manager.abort(key, now: .now())) }
        wake?.cancel()
        wake = nil
        return channel?.close() ?? eventLoop.makeSucceededVoidFuture()
    }

    // MARK: From the channel handler

    func receive(_ envelope: AddressedEnvelope<ByteBuffer>) {
        switch UTPDatagramKind.classify(envelope.data.readableBytesView) {
        case .krpc:
            onKRPC?(envelope)
        case .utp:
            apply(manager.receive(envelope.data, from: envelope.remoteAddress, now: .now(), random: &random), flushNow: false)
        case .unknown:
            break
        }
    }

    /// One batch of reads is over: flush what they produced in one go.
    func readComplete() {
        if pendingFlush {
            pendingFlush = false
            channel?.flush()
        }
    }

    // MARK: From streams

    func send(_ bytes: ByteBuffer, on key: Key) { apply(manager.send(bytes, on: key, now: .now())) }
    func close(_ key: Key) { apply(manager.close(key, now: .now())) }
    func abort(_ key: Key) { apply(manager.abort(key, now: .now())) }

    // MARK: Output

    private func apply(_ output: UTPSocketManager<SocketAddress>.Output, flushNow: Bool = true) {
        for datagram in output.datagrams {
            channel?.write(AddressedEnvelope(remoteAddress: datagram.address, data: datagram.bytes), promise: nil)
        }
        if !output.datagrams.isEmpty { pendingFlush = true }
        for event in output.events { handle(event) }
        if pendingFlush, flushNow {
            pendingFlush = false
            channel?.flush()
        }
        schedule(output.nextWakeup)
    }

    private func handle(_ event: UTPSocketManager<SocketAddress>.Event) {
        switch event {
        case .accepted(let key):
            let stream = UTPStream(key: key, socket: self)
            streams[key] = stream
            onAccept?(stream)
        case .connected(let key):
            streams[key]?.onConnect?()
        case .delivered(let key, let bytes):
            guard let stream = streams[key] else { return }
            stream.onRead?(bytes)
            // The callback took the bytes: the window reopens at once. Back-pressure toward a slow
            // reader is left to the integration (call `consumed` when the pipeline has read).
            let consumed = manager.consumed(bytes.readableBytes, on: key, now: .now())
            for datagram in consumed.datagrams {
                channel?.write(AddressedEnvelope(remoteAddress: datagram.address, data: datagram.bytes), promise: nil)
                pendingFlush = true
            }
        case .endOfStream(let key):
            streams[key]?.onEnd?()
        case .closed(let key, let reason):
            streams.removeValue(forKey: key)?.onClose?(reason)
        }
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

    /// The handshake completed.
    public var onConnect: (() -> Void)?
    /// Stream bytes, in order.
    public var onRead: ((ByteBuffer) -> Void)?
    /// The peer finished sending (its FIN).
    public var onEnd: (() -> Void)?
    public var onClose: ((UTPCloseReason) -> Void)?

    init(key: UTPSocket.Key, socket: UTPSocket) {
        self.key = key
        self.socket = socket
    }

    public var remoteAddress: SocketAddress { key.address }

    public func write(_ bytes: ByteBuffer) { socket.send(bytes, on: key) }
    /// Half-closes after the queued bytes (FIN).
    public func close() { socket.close(key) }
    public func abort() { socket.abort(key) }
}

/// The socket's only channel handler: every datagram to the `UTPSocket` on the same loop.
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
