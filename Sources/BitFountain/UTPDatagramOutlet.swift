import NIOCore

/// Where a `UTPSocket`'s datagrams leave: one UDP channel per address family. A channel on
/// the socket's own loop is written directly; one on another loop (the DHT's sockets, when
/// the DHT runs on a loop of its own) gets each flush's datagrams in one hop rather than
/// one task per datagram. Confined to the socket's event loop.
final class UTPDatagramOutlet {
    private struct Target {
        let channel: Channel
        var held: [AddressedEnvelope<ByteBuffer>] = []
    }

    private var v4: Target?
    private var v6: Target?

    func add(_ channel: Channel) {
        switch channel.localAddress {
        case .v6?: v6 = Target(channel: channel)
        default: v4 = Target(channel: channel)
        }
    }

    var localAddresses: [SocketAddress] { [v4, v6].compactMap { $0?.channel.localAddress } }

    func hasChannel(for address: SocketAddress) -> Bool {
        if case .v6 = address { return v6 != nil }
        if case .v4 = address { return v4 != nil }
        return false
    }

    func write(_ envelope: AddressedEnvelope<ByteBuffer>) {
        if case .v6 = envelope.remoteAddress { write(envelope, to: &v6) } else { write(envelope, to: &v4) }
    }

    private func write(_ envelope: AddressedEnvelope<ByteBuffer>, to target: inout Target?) {
        guard target != nil else { return }
        if target!.channel.eventLoop.inEventLoop {
            target!.channel.write(envelope, promise: nil)
        } else {
            target!.held.append(envelope)
        }
    }

    func flush() {
        flush(&v4)
        flush(&v6)
    }

    private func flush(_ target: inout Target?) {
        guard let channel = target?.channel else { return }
        guard let held = target?.held, !held.isEmpty else {
            if channel.eventLoop.inEventLoop { channel.flush() }
            return
        }
        target!.held.removeAll(keepingCapacity: true)
        channel.eventLoop.execute {
            for envelope in held { channel.write(envelope, promise: nil) }
            channel.flush()
        }
    }
}
