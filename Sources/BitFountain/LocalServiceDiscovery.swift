import Identity
import Metainfo
import NIOCore
import NIOPosix
import Swarm

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Local Service Discovery (BEP 14) on the sockets: UDP port 6771, joined to
/// 239.192.152.143 and ff15::efc0:988f. It wraps the node's other peer
/// discovery (the DHT, or none): every torrent the swarm announces there is
/// announced on the LAN too, and peers heard on the LAN go straight to their
/// torrent through the sink given to `deliverPeers(to:)`.
///
/// The decisions (when to announce, which datagrams become peers) are made by
/// `LSDScheduler`; this class only moves datagrams and runs its timer.
/// Multicast loop stays on (Linux's default, set explicitly), so two nodes on
/// one host hear each other; each drops its own announces by their cookie.
/// The TTL stays 1: announces do not leave the LAN segment.
public final class LocalServiceDiscovery: PeerDiscovery {
    public typealias PeerSink = @Sendable (InfoHash, [PeerAddress]) -> Void

    private let inner: any PeerDiscovery
    private let loop: EventLoop
    private let engine: NIOLoopBound<LSDEngine>

    public var dhtPort: UInt16? { inner.dhtPort }

    /// The groups LSD uses for a node bound to `bindHost`: none on loopback
    /// (127/8 and ::1 have no multicast route by default, and a node bound there
    /// cannot be dialled from the LAN anyway), both for a wildcard, else the
    /// bound address's family.
    public static func groups(forBindHost bindHost: String) -> [LSDGroup] {
        if bindHost == "0.0.0.0" || bindHost == "::" { return [.v4, .v6] }
        guard let ip = IPAddress(bindHost), !ip.isLoopback else { return [] }
        return ip.family == .v4 ? [.v4] : [.v6]
    }

    /// Opens the sockets for `bindHost` and wraps `inner`; nil when no group
    /// could be used (loopback, or every socket failed), so the caller keeps
    /// `inner` as it is. A group whose socket cannot be opened (port 6771 taken
    /// without SO_REUSEADDR by another program, no multicast route, no IPv6) is
    /// reported through `warning` and skipped: LSD is a bonus peer source, never
    /// a reason not to start. Throws only if the event loop is gone.
    public static func start(wrapping inner: any PeerDiscovery, bindHost: String,
                             configuration: LSDScheduler.Configuration = LSDScheduler.Configuration(),
                             warning: @escaping @Sendable (String) -> Void = { _ in }) async throws -> LocalServiceDiscovery? {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let cookie = Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) })
        let engine = try await loop.submit {
            NIOLoopBound(LSDEngine(scheduler: LSDScheduler(cookie: cookie, configuration: configuration), loop: loop), eventLoop: loop)
        }.get()
        var opened = 0
        for group in groups(forBindHost: bindHost) {
            do {
                let channel = try await openChannel(group, bindHost: bindHost, engine: engine, loop: loop)
                try await loop.submit { engine.value.channels.append((group, channel)) }.get()
                opened += 1
            } catch {
                // IPv6 next to IPv4 is optional, as it is for the DHT.
                if !(group == .v6 && bindHost == "0.0.0.0") {
                    warning("local service discovery on \(group.hostHeader) is off: \(error)")
                }
            }
        }
        return opened > 0 ? LocalServiceDiscovery(inner: inner, loop: loop, engine: engine) : nil
    }

    private init(inner: any PeerDiscovery, loop: EventLoop, engine: NIOLoopBound<LSDEngine>) {
        self.inner = inner
        self.loop = loop
        self.engine = engine
    }

    /// Where peers heard on the LAN go: the node that dials them.
    public func deliverPeers(to sink: @escaping PeerSink) {
        loop.execute { [engine] in engine.value.sink = sink }
    }

    /// The cookie our announces carry (for tests and traces).
    public var cookie: String {
        get async { (try? await loop.submit { [engine] in engine.value.scheduler.cookie }.get()) ?? "" }
    }

    // MARK: PeerDiscovery

    public func findPeers(for infoHash: InfoHash) -> AsyncStream<PeerAddress> {
        inner.findPeers(for: infoHash)
    }

    /// Starts announcing `infoHash` on the LAN (at once the first time, then on
    /// the scheduler's clock) and passes the announce on to the wrapped discovery,
    /// whose count is the answer: LSD has no notion of nodes accepting it.
    public func announce(_ infoHash: InfoHash, port: UInt16) async -> Int {
        loop.execute { [engine] in engine.value.add(infoHash, port: port) }
        return await inner.announce(infoHash, port: port)
    }

    public func externalAddressReported(_ address: IPAddress) async { await inner.externalAddressReported(address) }

    public func learnedDHTNode(_ node: PeerAddress) async {
        await inner.learnedDHTNode(node)
    }

    public func shutdown() async {
        let channels = (try? await loop.submit { [engine] in engine.value.stop() }.get()) ?? []
        for channel in channels { try? await channel.close() }
        await inner.shutdown()
    }

    // MARK: Sockets

    private static func openChannel(_ group: LSDGroup, bindHost: String, engine: NIOLoopBound<LSDEngine>,
                                    loop: EventLoop) async throws -> Channel {
        let wildcard = group == .v4 ? "0.0.0.0" : "::"
        var bootstrap = DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: LSDAnnounce.maxDatagramSize + 1))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LSDDatagramHandler(engine: engine.value))
                }
            }
        if group == .v6 {
            bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        // Multicast is delivered to sockets bound to the wildcard, not to a unicast address.
        let channel = try await bootstrap.bind(host: wildcard, port: Int(LSDGroup.port)).get()
        do {
            let device = try multicastDevice(for: bindHost)
            let groupAddress = try SocketAddress(ipAddress: group.address, port: Int(LSDGroup.port))
            guard let multicast = channel as? MulticastChannel, let options = channel as? SocketOptionProvider else {
                throw SessionError("no multicast support")
            }
            switch group {
            case .v4:
                try await options.setIPMulticastLoop(1).get()
                try await options.setIPMulticastTTL(1).get()
                if let device, case .v4(let v4)? = device.address {
                    try await options.setIPMulticastIF(v4.address.sin_addr).get()
                }
            case .v6:
                try await options.setIPv6MulticastLoop(1).get()
                try await options.setIPv6MulticastHops(1).get()
                if let device {
                    try await options.setIPv6MulticastIF(CUnsignedInt(device.interfaceIndex)).get()
                }
            }
            try await multicast.joinGroup(groupAddress, device: device).get()
            return channel
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// The interface of a specific `--bind` address (nil for a wildcard: the
    /// kernel then picks the interface its routes send the group to).
    private static func multicastDevice(for bindHost: String) throws -> NIONetworkDevice? {
        guard bindHost != "0.0.0.0", bindHost != "::" else { return nil }
        return try System.enumerateDevices().first { $0.address?.ipAddress == bindHost }
    }
}

/// The loop-bound side of `LocalServiceDiscovery`: the scheduler, the sockets
/// and the one timer that wakes it.
final class LSDEngine {
    var scheduler: LSDScheduler
    var channels: [(LSDGroup, Channel)] = []
    var sink: LocalServiceDiscovery.PeerSink?
    private let loop: EventLoop
    private var timer: Scheduled<Void>?
    private var stopped = false

    init(scheduler: LSDScheduler, loop: EventLoop) {
        self.scheduler = scheduler
        self.loop = loop
    }

    func add(_ infoHash: InfoHash, port: UInt16) {
        guard !stopped, !channels.isEmpty else { return }
        scheduler.add(infoHash, port: port, now: SwarmNode.now())
        sendDue()
    }

    func receive(_ datagram: ByteBuffer, from source: SocketAddress) {
        guard !stopped, let host = Self.dialableIP(source) else { return }
        let peers = datagram.readableBytesView.withContiguousStorageIfAvailable { bytes in
            scheduler.receive(bytes, from: host, now: SwarmNode.now())
        } ?? scheduler.receive(Array(datagram.readableBytesView), from: host, now: SwarmNode.now())
        for peer in peers {
            SwarmNode.trace("LSD: \(peer.address) has \(peer.infoHash)")
            sink?(peer.infoHash, [peer.address])
        }
        // A newcomer may have brought our next announce forward.
        schedule()
    }

    /// Sends what is due, then sleeps until the next announce.
    private func sendDue() {
        guard !stopped else { return }
        for due in scheduler.dueAnnounces(now: SwarmNode.now()) {
            for (group, channel) in channels {
                guard let destination = try? SocketAddress(ipAddress: group.address, port: Int(LSDGroup.port)) else { continue }
                for datagram in LSDAnnounce.datagrams(group: group, port: due.port, infoHashes: due.infoHashes,
                                                      cookie: scheduler.cookie) {
                    let envelope = AddressedEnvelope(remoteAddress: destination, data: channel.allocator.buffer(bytes: datagram))
                    channel.writeAndFlush(envelope).whenFailure { error in
                        SwarmNode.trace("LSD: cannot send to \(group.hostHeader): \(error)")
                    }
                }
            }
        }
        schedule()
    }

    private func schedule() {
        timer?.cancel()
        timer = nil
        guard !stopped, let wake = scheduler.nextWake else { return }
        let delay = max(0, wake - SwarmNode.now())
        let bound = NIOLoopBound(self, eventLoop: loop)
        timer = loop.scheduleTask(in: .milliseconds(Int64((delay * 1000).rounded(.up)))) { bound.value.sendDue() }
    }

    func stop() -> [Channel] {
        stopped = true
        timer?.cancel()
        timer = nil
        defer { channels = [] }
        return channels.map(\.1)
    }

    /// The source's IP if it can be dialled, or nil. An IPv6 link-local source
    /// would need its interface (scope) to be dialled, which a `PeerAddress`
    /// does not carry; such peers are normally heard over IPv4 as well.
    static func dialableIP(_ source: SocketAddress) -> IPAddress? {
        guard let ip = PeerAddress(source)?.ip, !ip.isUnroutable else { return nil }
        if case .v6(let high, _) = ip, high >> 54 == 0x3FA { return nil }
        return ip
    }
}

/// Hands every datagram on an LSD socket to the engine.
final class LSDDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let engine: LSDEngine

    init(engine: LSDEngine) { self.engine = engine }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        engine.receive(envelope.data, from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A datagram error (ICMP unreachable echoed back) must not close the socket.
        SwarmNode.trace("LSD: \(error)")
    }
}
