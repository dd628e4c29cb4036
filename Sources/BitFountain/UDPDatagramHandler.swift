import DHT
import NIOCore

/// The DHT's only channel handler: hands every datagram straight to the node
/// engine on the same event loop (no hop, no copy beyond the read buffer).
final class UDPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let engine: DHTNodeEngine

    init(engine: DHTNodeEngine) {
        self.engine = engine
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = NodeAddress(envelope.remoteAddress) else { return }
        envelope.data.withUnsafeReadableBytes { engine.receive($0, from: source) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        engine.afterReads()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors (port unreachable) surface here on Linux; a DHT node
        // talks to many unreachable peers and simply carries on.
    }
}
