import NIOCore

/// The DHT's UDP sockets carry uTP too (DESIGN §8): one port per address family for the DHT
/// and uTP, as libtorrent and Transmission have. The datagram handler keeps KRPC on its
/// direct path and sets uTP datagrams aside for `deliverUTP`'s receiver, one batch per read.
extension DHTNode {
    /// The UDP channels, one per address family, for uTP to send on.
    public func udpChannels() async -> [Channel] {
        (try? await eventLoop.submit { [engine] in Array(engine.value.channels.values) }.get()) ?? []
    }

    /// From now on, uTP datagrams arriving on the DHT's sockets go to `receiver` (called on
    /// the DHT's loop, once per read batch); before, they are dropped.
    public func deliverUTP(to receiver: @escaping @Sendable ([AddressedEnvelope<ByteBuffer>]) -> Void) async {
        try? await eventLoop.submit { [engine] in engine.value.utpReceiver = receiver }.get()
    }
}
