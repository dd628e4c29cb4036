import DHT
import NIOCore
import UTP

/// The DHT socket's only channel handler. KRPC (and anything that is not uTP) goes straight
/// to the node engine on the same event loop (no hop, no copy beyond the read buffer); uTP
/// datagrams, told apart by their first byte (DESIGN §8), are collected over one read batch
/// and handed to the engine's uTP receiver at its end.
final class UDPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let engine: DHTNodeEngine
    private var utpBatch: [AddressedEnvelope<ByteBuffer>] = []

    init(engine: DHTNodeEngine) {
        self.engine = engine
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if let first = envelope.data.readableBytesView.first, first != UInt8(ascii: "d"),
           UTPDatagramKind.classify(firstByte: first) == .utp {
            if engine.utpReceiver != nil { utpBatch.append(envelope) }
            return
        }
        guard let source = NodeAddress(envelope.remoteAddress) else { return }
        envelope.data.withUnsafeReadableBytes { engine.receive($0, from: source) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !utpBatch.isEmpty, let receiver = engine.utpReceiver {
            receiver(utpBatch)
            utpBatch.removeAll(keepingCapacity: true)
        }
        engine.afterReads()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors (port unreachable) surface here on Linux; a DHT node
        // talks to many unreachable peers and simply carries on.
    }
}
