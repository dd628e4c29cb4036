import Metainfo
import NIOCore
import PeerWire

/// MSE/PE on a peer connection, placed before `PeerChannelHandler`: it runs the
/// sans-I/O handshake (`MSEInitiator` / `MSEResponder`) on the raw bytes, then
/// passes the BitTorrent stream through (RC4-decrypting what comes in,
/// encrypting what goes out), or removes itself when the stream is plaintext,
/// so that a connection without RC4 costs nothing per byte.
///
/// Incoming: the first bytes tell a plaintext handshake (19, "BitTorrent
/// protocol") from an MSE one (a 96-byte public key) on the same port.
/// Outgoing: `PeerChannelHandler` writes its handshake on `channelActive` as
/// usual; it is held here and sent encrypted as IA inside step 3, and anything
/// written after it waits until the stream is set up.
final class MSEChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Role {
        /// The peer dialled us. `lookup` maps HASH('req2', infohash) to a torrent we serve.
        case incoming(EncryptionPolicy, lookup: (_ req2: [UInt8]) -> InfoHash?)
        /// We dialled for `infoHash`. `plaintextRetry`, when set, is called instead of
        /// reporting the connection closed if it ends before the MSE handshake completes.
        case outgoing(InfoHash, offer: MSECryptoMethods, plaintextRetry: (() -> Void)?)
    }

    private enum Phase {
        /// Incoming, before we know which kind of handshake this is.
        case detecting
        case responding(MSEResponder)
        case initiating(MSEInitiator)
        /// Established with RC4: every byte passes through these.
        case encrypted(outgoing: RC4, incoming: RC4)
        /// Handed over (plaintext stream, handler being removed) or failed.
        case passThrough
    }

    private let role: Role
    private var phase = Phase.detecting
    /// Incoming bytes not yet handled, while detecting.
    private var detectionBuffer: ByteBuffer?
    /// Writes from the handlers above, held until the stream is set up.
    private var heldWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var holdingWrites = true

    /// The plaintext BitTorrent handshake's first 20 bytes: `<19>BitTorrent protocol`.
    static let plaintextPrefix: [UInt8] = [19] + Array("BitTorrent protocol".utf8)

    init(role: Role) {
        self.role = role
    }

    // MARK: Outgoing

    func channelActive(context: ChannelHandlerContext) {
        // The handlers above write their handshake now; it lands in `heldWrites`.
        context.fireChannelActive()
        guard case .outgoing(let infoHash, let offer, _) = role else { return }
        var initialPayload: [UInt8] = []
        let heldBytes = heldWrites.reduce(0) { $0 + $1.0.readableBytes }
        var promises: [EventLoopPromise<Void>] = []
        if heldBytes <= MSE.maxInitialPayload {
            for (buffer, promise) in heldWrites {
                initialPayload += buffer.readableBytesView
                if let promise { promises.append(promise) }
            }
            heldWrites.removeAll()
        }
        let initiator = MSEInitiator(infoHash: infoHash, offer: offer, keys: .random(), padA: Self.randomPadding(),
                                     padC: [], initialPayload: initialPayload)
        // The IA writes are done once step 3 is: chain their promises to Ya's write
        // (step 3 follows on the same ordered socket, so a failure shows there too).
        let written = promises.isEmpty ? nil : context.eventLoop.makePromise(of: Void.self)
        for promise in promises { written?.futureResult.cascade(to: promise) }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: initiator.start())), promise: written)
        phase = .initiating(initiator)
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch phase {
        case .encrypted(_, let incoming):
            buffer.withUnsafeMutableReadableBytes { bytes in
                if let base = bytes.baseAddress { incoming.apply(base, count: bytes.count) }
            }
            context.fireChannelRead(wrapInboundOut(buffer))
        case .passThrough:
            context.fireChannelRead(data)
        case .detecting:
            detect(context: context, buffer: &buffer)
        case .responding(var responder):
            phase = .passThrough  // the responder is moved out while it runs
            if handle(context: context, { try responder.receive(buffer.readableBytesView) }) == .inProgress {
                phase = .responding(responder)
            }
        case .initiating(var initiator):
            phase = .passThrough
            if handle(context: context, { try initiator.receive(buffer.readableBytesView) }) == .inProgress {
                phase = .initiating(initiator)
            }
        }
    }

    /// Decides from the first bytes whether the peer speaks plaintext or MSE.
    private func detect(context: ChannelHandlerContext, buffer: inout ByteBuffer) {
        if detectionBuffer == nil { detectionBuffer = buffer } else { detectionBuffer!.writeBuffer(&buffer) }
        let seen = detectionBuffer!.readableBytesView
        let compared = min(seen.count, Self.plaintextPrefix.count)
        let matchesSoFar = seen.prefix(compared).elementsEqual(Self.plaintextPrefix.prefix(compared))
        if matchesSoFar, compared < Self.plaintextPrefix.count { return }
        guard case .incoming(let policy, let lookup) = role else { return }
        let first = detectionBuffer!
        detectionBuffer = nil
        if matchesSoFar {
            guard policy.acceptsPlaintextHandshake else {
                return refuse(context: context, "a plaintext handshake (--encryption require)")
            }
            handOver(context: context, payload: first, outgoing: nil, incoming: nil)
            return
        }
        guard let accepted = policy.incomingAccepted else {
            return refuse(context: context, "an MSE handshake (--encryption disable)")
        }
        var responder = MSEResponder(accept: accepted, keys: .random(), padB: Self.randomPadding(), padD: [],
                                     lookup: lookup)
        phase = .passThrough
        if handle(context: context, { try responder.receive(first.readableBytesView) }) == .inProgress {
            phase = .responding(responder)
        }
    }

    private enum StepOutcome { case inProgress, established, failed }

    /// Runs one handshake step: sends what it produced and, once established,
    /// hands the stream to the handlers above. On a protocol error, closes.
    private func handle(context: ChannelHandlerContext, _ step: () throws -> MSEStep) -> StepOutcome {
        do {
            let result = try step()
            if !result.send.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: result.send)), promise: nil) }
            guard let established = result.established else { return .inProgress }
            SwarmNode.trace("MSE with \(peerName(context)) established: \(established.method)")
            if case .incoming = role {
                // Which torrent SKEY named: the plaintext handshake above must name the same one.
                context.fireUserInboundEventTriggered(MSEStreamEstablished(infoHash: established.infoHash))
            }
            handOver(context: context, payload: ByteBuffer(bytes: established.payload),
                     outgoing: established.outgoing, incoming: established.incoming)
            return .established
        } catch {
            SwarmNode.trace("\(peerName(context)): \(error)")
            context.close(promise: nil)
            return .failed
        }
    }

    private func refuse(context: ChannelHandlerContext, _ what: String) {
        SwarmNode.trace("refused \(what) from \(peerName(context))")
        phase = .passThrough
        context.close(promise: nil)
    }

    /// The stream is set up: release the held writes, pass on what the peer
    /// already sent, and either stay as the RC4 layer or leave the pipeline.
    private func handOver(context: ChannelHandlerContext, payload: ByteBuffer, outgoing: RC4?, incoming: RC4?) {
        if let outgoing, let incoming { phase = .encrypted(outgoing: outgoing, incoming: incoming) } else { phase = .passThrough }
        holdingWrites = false
        let held = heldWrites
        heldWrites.removeAll()
        for (buffer, promise) in held { write(context: context, buffer: buffer, promise: promise) }
        if !held.isEmpty { context.flush() }
        if payload.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(payload)) }
        if outgoing == nil, context.channel.isActive {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    // MARK: Writing

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        if holdingWrites {
            heldWrites.append((buffer, promise))
        } else {
            write(context: context, buffer: buffer, promise: promise)
        }
    }

    private func write(context: ChannelHandlerContext, buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard case .encrypted(let outgoing, _) = phase else {
            context.write(wrapOutboundOut(buffer), promise: promise)
            return
        }
        // The buffer may be a slice of a cached piece that other peers are
        // served from too: encrypt into a new buffer, never in place.
        let count = buffer.readableBytes
        var encrypted = context.channel.allocator.buffer(capacity: count)
        encrypted.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { (destination: UnsafeMutableRawBufferPointer) -> Int in
            buffer.withUnsafeReadableBytes { (source: UnsafeRawBufferPointer) in
                if let from = source.baseAddress, let to = destination.baseAddress {
                    outgoing.apply(from: from, to: to, count: count)
                }
            }
            return count
        }
        context.write(wrapOutboundOut(encrypted), promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        // Held writes go out (and are flushed) when the stream is set up.
        if !holdingWrites { context.flush() }
    }

    // MARK: Closing

    func channelInactive(context: ChannelHandlerContext) {
        let failedEarly: Bool
        switch phase {
        case .initiating, .detecting, .responding: failedEarly = true
        case .encrypted, .passThrough: failedEarly = holdingWrites
        }
        let held = heldWrites
        heldWrites.removeAll()
        for (_, promise) in held { promise?.fail(ChannelError.ioOnClosedChannel) }
        if failedEarly, case .outgoing(_, _, let retry?) = role {
            // The handlers above never saw a peer: they have nothing to clean up,
            // and the dial is not over yet (the plaintext attempt continues it).
            SwarmNode.trace("MSE to \(peerName(context)) failed before completing; retrying in plaintext")
            phase = .passThrough
            retry()
            return
        }
        context.fireChannelInactive()
    }

    private func peerName(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0)" } ?? "?"
    }

    /// Random padding of 0–512 bytes, as the spec asks (PadA, PadB).
    static func randomPadding() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<Int.random(in: 0...MSE.maxPadding, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// Sent up the pipeline when an incoming MSE handshake completes: the torrent
/// its SKEY named. The BitTorrent handshake that follows must name the same
/// torrent, or a peer could set up the stream for one torrent and then ask
/// for another (libtorrent refuses that too).
struct MSEStreamEstablished {
    let infoHash: InfoHash
}
