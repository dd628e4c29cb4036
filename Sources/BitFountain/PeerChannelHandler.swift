import Identity
import Metainfo
import NIOCore
import PeerWire

/// The NIO end of a peer connection: waits for the 68-byte handshake, hands
/// the connection to its torrent session, then decodes messages and passes
/// them on. Piece payloads stay slices of the receive buffer until the state
/// machine copies them into their piece.
final class PeerChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    enum Role {
        /// We dialled this peer for a torrent we know.
        case outgoing(TorrentSession, PeerAddress)
        /// The peer dialled us; its handshake says which torrent it wants.
        case incoming(SwarmNode)
    }

    private let role: Role
    private var attached: (session: TorrentSession, key: UInt64)?
    private var cumulation: ByteBuffer?
    private let decoder = PeerMessageDecoder()
    /// The torrent an incoming MSE handshake was set up for (its SKEY), if any.
    private var encryptedFor: InfoHash?
    /// How long a peer may take to send its handshake.
    static let handshakeTimeout = TimeAmount.seconds(10)

    init(role: Role) {
        self.role = role
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let established = event as? MSEStreamEstablished {
            encryptedFor = established.infoHash
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelActive(context: ChannelHandlerContext) {
        if case .outgoing(let session, _) = role {
            context.writeAndFlush(NIOAny(session.handshakeBytes()), promise: nil)
        }
        let channel = context.channel
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.handshakeTimeout) {
            if handler.value.attached == nil { channel.close(promise: nil) }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if cumulation == nil || cumulation!.readableBytes == 0 {
            cumulation = incoming
        } else {
            cumulation!.writeBuffer(&incoming)
        }
        if attached == nil {
            guard cumulation!.readableBytes >= Handshake.length else { return }
            let bytes = cumulation!.readBytes(length: Handshake.length)!
            guard attach(context: context, bytes: bytes) else {
                cumulation = nil
                context.close(promise: nil)
                return
            }
        }
        guard let (session, key) = attached else { return }
        do {
            while let message = try decoder.next(from: &cumulation!) {
                session.received(message, from: key)
                if attached == nil { return }
            }
        } catch {
            session.protocolError(key, "\(error)")
            cumulation = nil
            return
        }
        if cumulation!.readableBytes == 0 {
            cumulation = nil
        } else {
            cumulation!.discardReadBytes()
        }
    }

    private func attach(context: ChannelHandlerContext, bytes: [UInt8]) -> Bool {
        guard let handshake = try? Handshake(decoding: bytes) else {
            SwarmNode.trace("bad handshake from \(context.channel.remoteAddress.map { "\($0)" } ?? "?")")
            return false
        }
        let channel = context.channel
        switch role {
        case .outgoing(let session, let address):
            guard handshake.infoHash == session.infoHash,
                  let key = session.attach(channel: channel, handshake: handshake, address: address, outgoing: true) else { return false }
            attached = (session, key)
        case .incoming(let node):
            if let encryptedFor, handshake.infoHash != encryptedFor {
                SwarmNode.trace("refused \(context.channel.remoteAddress.map { "\($0)" } ?? "?"): its handshake names \(handshake.infoHash), its MSE SKEY \(encryptedFor)")
                return false
            }
            // The session answers with our handshake first, then its greeting messages.
            guard let session = node.session(for: handshake.infoHash),
                  let remote = channel.remoteAddress.flatMap(PeerAddress.init) else { return false }
            guard let key = session.attach(channel: channel, handshake: handshake, address: remote, outgoing: false) else { return false }
            attached = (session, key)
        }
        return true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        attached?.session.flushConnections()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let (session, key) = attached { session.writable(key) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let (session, key) = attached {
            attached = nil
            session.detached(key)
        } else if case .outgoing(let session, let address) = role {
            SwarmNode.trace("connection to \(address) closed before its handshake")
            session.connectionFailed(address)
        }
        cumulation = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        SwarmNode.trace("connection error \(context.channel.remoteAddress.map { "\($0)" } ?? "?"): \(error)")
        context.close(promise: nil)
    }
}
