import NIOCore
import Synchronization
import UTP

/// A uTP stream as a NIO `Channel`, so the same pipeline runs over uTP as over TCP (MSE/PE,
/// the peer wire, bf_fountain): the transport seam of DESIGN §8. Inbound bytes are fired down
/// the pipeline as `ByteBuffer`s; outbound `ByteBuffer`s are queued at `write` and handed to
/// the stream at `flush`. Writability follows the stream's send queue (`UTPSocket`'s water
/// marks). A peer's FIN closes the channel, as a TCP EOF does with half-closure off.
///
/// Confined to the stream's event loop, like NIO's own channels; `isWritable` and `isActive`
/// may be read from anywhere.
final class UTPChannel: Channel, ChannelCore, @unchecked Sendable {
    let eventLoop: EventLoop
    let allocator = ByteBufferAllocator()
    let localAddress: SocketAddress?
    let remoteAddress: SocketAddress?
    var parent: Channel? { nil }
    private var _pipeline: ChannelPipeline!
    var pipeline: ChannelPipeline { _pipeline }
    var _channelCore: ChannelCore { self }

    private let stream: UTPStream
    private let closePromise: EventLoopPromise<Void>
    var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }
    private var unflushed: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var isOpen = true
    private let active = Atomic<Bool>(false)
    private let writable = Atomic<Bool>(true)

    var isActive: Bool { active.load(ordering: .relaxed) }
    var isWritable: Bool { writable.load(ordering: .relaxed) }

    /// Wraps a stream (connected, or accepted and confirmed). Add handlers with
    /// `pipeline.syncOperations`, then call `activate()`.
    init(stream: UTPStream) {
        eventLoop = stream.eventLoop
        localAddress = stream.localAddress
        remoteAddress = stream.remoteAddress
        self.stream = stream
        closePromise = stream.eventLoop.makePromise()
        _pipeline = ChannelPipeline(channel: self)
    }

    /// Registers the channel and makes it active; from now on the stream's events reach the pipeline.
    func activate() {
        eventLoop.preconditionInEventLoop()
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        stream.onRead = { bytes in bound.value.streamRead(bytes) }
        stream.onReadComplete = { bound.value.streamReadComplete() }
        stream.onWritable = { bound.value.streamWritable() }
        stream.onEnd = { bound.value.streamEnded(error: ChannelError.eof) }
        stream.onClose = { reason in bound.value.streamEnded(error: UTPChannelError.closed(reason)) }
        pipeline.syncOperations.fireChannelRegistered()
        active.store(true, ordering: .relaxed)
        pipeline.syncOperations.fireChannelActive()
    }

    // MARK: From the stream

    private func streamRead(_ bytes: ByteBuffer) {
        guard isOpen else { return }
        pipeline.syncOperations.fireChannelRead(NIOAny(bytes))
    }

    private func streamReadComplete() {
        guard isOpen else { return }
        pipeline.syncOperations.fireChannelReadComplete()
    }

    private func streamWritable() {
        guard isOpen, !isWritable else { return }
        writable.store(true, ordering: .relaxed)
        pipeline.syncOperations.fireChannelWritabilityChanged()
    }

    private func streamEnded(error: Error) {
        guard isOpen else { return }
        close0(error: error, mode: .all, promise: nil)
    }

    // MARK: Channel

    func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) -> EventLoopFuture<Void> {
        eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
    }

    func getOption<Option: ChannelOption>(_ option: Option) -> EventLoopFuture<Option.Value> {
        eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
    }

    // MARK: ChannelCore

    func localAddress0() throws -> SocketAddress {
        guard let localAddress else { throw ChannelError.operationUnsupported }
        return localAddress
    }

    func remoteAddress0() throws -> SocketAddress {
        guard let remoteAddress else { throw ChannelError.operationUnsupported }
        return remoteAddress
    }

    func register0(promise: EventLoopPromise<Void>?) { promise?.succeed() }
    func registerAlreadyConfigured0(promise: EventLoopPromise<Void>?) { promise?.fail(ChannelError.operationUnsupported) }
    func bind0(to: SocketAddress, promise: EventLoopPromise<Void>?) { promise?.fail(ChannelError.operationUnsupported) }
    func connect0(to: SocketAddress, promise: EventLoopPromise<Void>?) { promise?.fail(ChannelError.operationUnsupported) }
    func read0() {}
    func triggerUserOutboundEvent0(_ event: Any, promise: EventLoopPromise<Void>?) { promise?.fail(ChannelError.operationUnsupported) }
    func channelRead0(_ data: NIOAny) {}
    func errorCaught0(error: Error) {}

    func write0(_ data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard isOpen else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        unflushed.append((unwrapData(data, as: ByteBuffer.self), promise))
    }

    func flush0() {
        guard isOpen, !unflushed.isEmpty else { return }
        let batch = unflushed
        unflushed.removeAll(keepingCapacity: true)
        stream.write(batch.map(\.0))
        for (_, promise) in batch { promise?.succeed() }
        if isWritable, stream.isCongested {
            writable.store(false, ordering: .relaxed)
            pipeline.syncOperations.fireChannelWritabilityChanged()
        }
    }

    func close0(error: Error, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard isOpen else {
            promise?.fail(ChannelError.alreadyClosed)
            return
        }
        if mode == .output {
            stream.close()
            promise?.succeed()
            return
        }
        isOpen = false
        active.store(false, ordering: .relaxed)
        // Our FIN follows what was flushed; a closed or reset stream ignores it.
        stream.close()
        stream.onRead = nil
        stream.onReadComplete = nil
        stream.onWritable = nil
        stream.onEnd = nil
        stream.onClose = nil
        let pending = unflushed
        unflushed.removeAll()
        for (_, writePromise) in pending { writePromise?.fail(ChannelError.ioOnClosedChannel) }
        promise?.succeed()
        pipeline.syncOperations.fireChannelInactive()
        pipeline.syncOperations.fireChannelUnregistered()
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute {
            // Later, as NIO's channels do: handlers may still be walking the pipeline.
            bound.value.removeHandlers(pipeline: bound.value.pipeline)
            bound.value.closePromise.succeed()
        }
    }
}

/// Why a uTP channel closed under its handlers.
enum UTPChannelError: Error, CustomStringConvertible {
    case closed(UTPCloseReason)

    var description: String {
        switch self {
        case .closed(let reason): "uTP connection closed: \(reason)"
        }
    }
}
