import BitFountain
import Foundation
import Identity
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// NATPMPPortMapper against a fake NAT-PMP gateway on 127.0.0.1: real UDP,
/// nothing beyond loopback. The gateway grants every mapping for 4 s (so a
/// renewal comes at 2 s), maps port P to P + 1000 and says its external
/// address is 203.0.113.5.
@Suite(.serialized) struct NATPMPPortMapperTests {
    @Test func mapsRenewsReportsTheAddressAndDeletesAtStop() async throws {
        let gateway = try await FakeGateway.start()
        let events = Mutex<[GatewayMappingClient.Event]>([])
        let mapper = try await NATPMPPortMapper.start(gateway: gateway.address, mappings: [.init(.tcp, 6881), .init(.udp, 6881)],
                                                      bindHost: "127.0.0.1") { event in events.withLock { $0.append(event) } }

        try await waitUntil(timeout: 10) { events.withLock { $0.count } >= 3 }
        let seen = events.withLock { $0 }
        #expect(seen.contains(.externalAddress(IPAddress("203.0.113.5")!)))
        #expect(seen.contains(.mapped(.tcp, internalPort: 6881, externalPort: 7881, lifetime: 4)))
        #expect(seen.contains(.mapped(.udp, internalPort: 6881, externalPort: 7881, lifetime: 4)))

        // Renewed halfway through the lifetime, asking for the port it holds.
        try await waitUntil(timeout: 10) {
            gateway.requests.filter { $0 == NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 7881, lifetime: 7200).encoded() }.count >= 1
        }

        await mapper.stop()
        try await waitUntil(timeout: 5) {
            let requests = gateway.requests
            return requests.contains(NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 0, lifetime: 0).encoded())
                && requests.contains(NATPMPRequest.map(.udp, internalPort: 6881, externalPort: 0, lifetime: 0).encoded())
        }
        await gateway.stop()
    }

    @Test func aSilentGatewayIsRetriedThenReportedAndForgedAnswersAreNotRead() async throws {
        // A gateway that never answers stands for a router without NAT-PMP.
        let gateway = try await FakeGateway.start(silent: true)
        var configuration = GatewayMappingClient.Configuration()
        configuration.firstRetry = 0.5
        configuration.maxAttempts = 3
        let events = Mutex<[GatewayMappingClient.Event]>([])
        let mapper = try await NATPMPPortMapper.start(gateway: gateway.address, mappings: [.init(.tcp, 6881)], bindHost: "127.0.0.1",
                                                      configuration: configuration) { event in events.withLock { $0.append(event) } }
        try await waitUntil(timeout: 5) { gateway.clientAddress != nil }

        // While it waits for an answer, one from another socket (not the gateway) is not read.
        let forger = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let forged: [UInt8] = [0, 130, 0, 0, 0, 0, 0, 9, 0x1A, 0xE1, 0x00, 0x50, 0, 0, 0x0E, 0x10]
        let target = try #require(gateway.clientAddress)
        try await forger.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: forger.allocator.buffer(bytes: forged))).get()

        try await waitUntil(timeout: 10) { events.withLock { $0.count } >= 2 }
        let seen = events.withLock { $0 }
        #expect(!seen.contains(.mapped(.tcp, internalPort: 6881, externalPort: 80, lifetime: 3600)), "forged answer read: \(seen)")
        #expect(seen.contains(.failed(.tcp, internalPort: 6881, reason: "no answer from the gateway")))
        #expect(gateway.requests.filter { $0.count == 12 }.count == 3, "three tries")
        await mapper.stop()
        try await forger.close()
        await gateway.stop()
    }

    private func waitUntil(timeout: Double, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else {
                Issue.record("condition not met within \(timeout) s")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A NAT-PMP gateway that grants everything, for 4 s, on port + 1000.
final class FakeGateway: Sendable {
    private let channel: Channel
    private let silent: Bool
    private let log: Mutex<(requests: [[UInt8]], client: SocketAddress?)>

    var address: SocketAddress { channel.localAddress! }
    var requests: [[UInt8]] { log.withLock { $0.requests } }
    var clientAddress: SocketAddress? { log.withLock { $0.client } }

    private init(channel: Channel, silent: Bool) {
        self.channel = channel
        self.silent = silent
        log = Mutex(([], nil))
    }

    static func start(silent: Bool = false) async throws -> FakeGateway {
        let box = LogBox()
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let gateway = FakeGateway(channel: channel, silent: silent)
        box.gateway.withLock { $0 = gateway }
        return gateway
    }

    func stop() async { try? await channel.close() }

    fileprivate func answer(_ request: [UInt8], from client: SocketAddress) -> [UInt8]? {
        log.withLock {
            $0.requests.append(request)
            $0.client = client
        }
        guard !silent else { return nil }
        let epoch: [UInt8] = [0, 0, 0, 50]
        if request == [0, 0] { return [0, 128, 0, 0] + epoch + [203, 0, 113, 5] }
        guard request.count == 12, request[0] == 0, request[1] == 1 || request[1] == 2 else { return nil }
        let local = UInt16(request[4]) << 8 | UInt16(request[5])
        let deleting = request[8...11].allSatisfy { $0 == 0 }
        let lifetime: [UInt8] = deleting ? [0, 0, 0, 0] : [0, 0, 0, 4]
        let external: UInt16 = deleting ? 0 : local + 1000
        let header: [UInt8] = [0, 128 + request[1], 0, 0] + epoch
        let ports: [UInt8] = [request[4], request[5], UInt8(external >> 8), UInt8(external & 0xFF)]
        return header + ports + lifetime
    }

    private final class LogBox: Sendable {
        let gateway = Mutex<FakeGateway?>(nil)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let box: LogBox

        init(box: LogBox) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let gateway = box.gateway.withLock({ $0 }),
                  let reply = gateway.answer(Array(envelope.data.readableBytesView), from: envelope.remoteAddress) else { return }
            context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress,
                                                                    data: context.channel.allocator.buffer(bytes: reply))), promise: nil)
        }
    }
}
