import Foundation
import Identity
import NIOCore
import NIOPosix

/// PCP and NAT-PMP on a socket: one UDP socket that talks to the gateway's port 5351,
/// driven by `GatewayMappingClient` (which decides everything) and one timer. Only
/// datagrams from the gateway's address and port are read; `stop` sends the
/// deletions and closes the socket.
public final class NATPMPPortMapper: Sendable {
    public typealias EventHandler = @Sendable (PortMappingEvent) -> Void

    private let loop: EventLoop
    private let engine: NIOLoopBound<NATPMPEngine>

    /// Starts mapping `mappings` on `gateway` (its port is normally 5351),
    /// in PCP when `pcp` (falling back to NAT-PMP if the gateway says so), else in NAT-PMP.
    public static func start(gateway: SocketAddress, mappings: [GatewayMappingClient.Mapping], bindHost: String = "0.0.0.0",
                             pcp: Bool = false,
                             configuration: GatewayMappingClient.Configuration = GatewayMappingClient.Configuration(),
                             onEvent: @escaping EventHandler) async throws -> NATPMPPortMapper {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        var dialect = GatewayMappingClient.Dialect.natpmp
        if pcp, let local = await localAddress(toward: gateway, bindHost: bindHost, loop: loop) {
            var random = SystemRandomNumberGenerator()
            dialect = .pcp(client: local, nonce: (0..<12).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
        let engine = try await loop.submit { [dialect] in
            NIOLoopBound(NATPMPEngine(client: GatewayMappingClient(mappings: mappings, dialect: dialect, configuration: configuration,
                                                                   now: SwarmNode.now()),
                                      gateway: gateway, loop: loop, onEvent: onEvent), eventLoop: loop)
        }.get()
        let channel = try await DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NATPMPDatagramHandler(engine: engine.value))
                }
            }
            .bind(host: bindHost, port: 0).get()
        try await loop.submit {
            engine.value.channel = channel
            engine.value.poll()
        }.get()
        return NATPMPPortMapper(loop: loop, engine: engine)
    }

    private init(loop: EventLoop, engine: NIOLoopBound<NATPMPEngine>) {
        self.loop = loop
        self.engine = engine
    }

    /// Deletes the mappings (best effort: one datagram each, not retried, as
    /// a node that is exiting cannot wait) and closes the socket.
    public func stop() async {
        let channel = try? await loop.flatSubmit { [engine] in engine.value.stop() }.get()
        try? await channel?.close()
    }

    /// The address our datagrams to `gateway` leave from (PCP names it in
    /// each request): what a UDP socket connected to the gateway is bound to.
    static func localAddress(toward gateway: SocketAddress, bindHost: String, loop: EventLoop) async -> IPAddress? {
        guard let channel = try? await DatagramBootstrap(group: loop).bind(host: bindHost, port: 0)
            .flatMap({ channel in channel.connect(to: gateway).map { channel } }).get() else { return nil }
        let local = channel.localAddress?.ipAddress.flatMap { IPAddress($0) }
        try? await channel.close()
        return local
    }

    /// The IPv4 default gateway from Linux's /proc/net/route, if there is one.
    public static func defaultGateway() -> IPAddress? {
        guard let table = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return nil }
        return defaultGateway(procNetRoute: table)
    }

    /// The gateway of the first default route (destination 0, RTF_GATEWAY set)
    /// in /proc/net/route's format: hex fields in host byte order.
    public static func defaultGateway(procNetRoute table: String) -> IPAddress? {
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 4, fields[1] == "00000000",
                  let gateway = UInt32(fields[2], radix: 16), let flags = UInt16(fields[3], radix: 16),
                  flags & 0x2 != 0, gateway != 0 else { continue }
            // The field is the address's bytes read as a host-order integer.
            return .v4(UInt32(bigEndian: gateway))
        }
        return nil
    }
}

/// The loop-bound side of `NATPMPPortMapper`.
final class NATPMPEngine {
    var client: GatewayMappingClient
    var channel: Channel?
    private let gateway: SocketAddress
    private let loop: EventLoop
    private let onEvent: NATPMPPortMapper.EventHandler
    private var timer: Scheduled<Void>?

    init(client: GatewayMappingClient, gateway: SocketAddress, loop: EventLoop, onEvent: @escaping NATPMPPortMapper.EventHandler) {
        self.client = client
        self.gateway = gateway
        self.loop = loop
        self.onEvent = onEvent
    }

    func receive(_ envelope: AddressedEnvelope<ByteBuffer>) {
        // Anyone on the LAN can send us datagrams; only the gateway's count.
        guard envelope.remoteAddress == gateway else { return }
        for event in client.receive(Array(envelope.data.readableBytesView), now: SwarmNode.now()) { onEvent(event) }
        schedule()
    }

    func poll() {
        let (datagrams, events) = client.poll(now: SwarmNode.now())
        send(datagrams)
        for event in events { onEvent(event) }
        schedule()
    }

    func stop() -> EventLoopFuture<Channel?> {
        timer?.cancel()
        timer = nil
        let deletions = client.stop()
        guard let channel else { return loop.makeSucceededFuture(nil) }
        let writes = deletions.map { channel.writeAndFlush(AddressedEnvelope(remoteAddress: gateway, data: channel.allocator.buffer(bytes: $0))) }
        return EventLoopFuture.whenAllComplete(writes, on: loop).map { _ in channel }
    }

    private func send(_ datagrams: [[UInt8]]) {
        guard let channel else { return }
        for datagram in datagrams {
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: gateway, data: channel.allocator.buffer(bytes: datagram)))
                .whenFailure { error in SwarmNode.trace("NAT-PMP: cannot send to the gateway: \(error)") }
        }
    }

    private func schedule() {
        timer?.cancel()
        timer = nil
        guard let wake = client.nextWake else { return }
        let delay = max(0, wake - SwarmNode.now())
        let bound = NIOLoopBound(self, eventLoop: loop)
        timer = loop.scheduleTask(in: .milliseconds(Int64((delay * 1000).rounded(.up)))) { bound.value.poll() }
    }
}

/// Hands the gateway's datagrams to the engine; socket errors (an ICMP port
/// unreachable when no NAT-PMP server listens) must not close the socket.
final class NATPMPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let engine: NATPMPEngine

    init(engine: NATPMPEngine) { self.engine = engine }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        engine.receive(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        SwarmNode.trace("NAT-PMP: \(error)")
    }
}
