import Foundation
import Identity
import NIOCore
import NIOHTTP1
import NIOPosix

/// The I/O of UPnP IGD: one SSDP search and one HTTP request at a time, each
/// bounded in time and size. HTTP is NIO's codec with its response
/// aggregator (which refuses a body past `maxBody`), not a parser of ours.
enum UPnPTransport {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Response {
        let status: Int
        let body: [UInt8]
        /// Our end of the connection: the address the router sees us at.
        let localAddress: IPAddress?
    }

    /// Multicasts an M-SEARCH (and sends it to `gateway` directly, which a
    /// router also answers) and returns the first valid answer's location.
    static func search(bindHost: String, gateway: IPAddress?, timeout: TimeAmount) async -> URL? {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: URL?.self)
        let channel: Channel
        do {
            channel = try await DatagramBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SSDPAnswerHandler(promise: promise))
                    }
                }
                .bind(host: bindHost, port: 0).get()
        } catch {
            promise.succeed(nil)  // never leave a promise behind
            return nil
        }
        let timer = loop.scheduleTask(in: timeout) { promise.succeed(nil) }
        var targets = [try? SocketAddress(ipAddress: SSDP.multicastGroup, port: Int(SSDP.port))]
        if let gateway { targets.append(try? SocketAddress(ipAddress: gateway.description, port: Int(SSDP.port))) }
        for target in targets.compactMap({ $0 }) {
            let envelope = AddressedEnvelope(remoteAddress: target, data: channel.allocator.buffer(bytes: SSDP.search()))
            channel.writeAndFlush(envelope).whenFailure { error in SwarmNode.trace("SSDP: cannot send to \(target): \(error)") }
        }
        let location = try? await promise.futureResult.get()
        timer.cancel()
        try? await channel.close()
        return location ?? nil
    }

    /// One HTTP/1.1 request with `Connection: close`.
    static func request(_ url: URL, method: HTTPMethod, headers: [(String, String)] = [], body: String? = nil,
                        maxBody: Int, timeout: TimeAmount) async throws -> Response {
        guard let host = url.host, let port = url.port ?? 80 as Int? else { throw Failure(description: "bad URL \(url)") }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: NIOHTTPClientResponseFull.self)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: url.path.isEmpty ? "/" : url.path
            + (url.query.map { "?" + $0 } ?? ""))
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let bodyBytes = body.map { Array($0.utf8) }
        if let bodyBytes { head.headers.add(name: "Content-Length", value: "\(bodyBytes.count)") }
        let request = head
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOHTTPClientResponseAggregator(maxContentLength: maxBody),
                        HTTPExchangeHandler(request: request, body: bodyBytes, promise: promise),
                    ])
                }
            }
            .connect(host: host, port: port).get()
        } catch {
            promise.fail(error)  // never leave a promise behind
            throw error
        }
        let timer = loop.scheduleTask(in: timeout) { promise.fail(Failure(description: "no answer from \(host) in time")) }
        defer { timer.cancel() }
        let local = channel.localAddress?.ipAddress.flatMap { IPAddress($0) }
        do {
            let full = try await promise.futureResult.get()
            try? await channel.close()
            var buffer = full.body ?? ByteBuffer()
            return Response(status: Int(full.head.status.code), body: buffer.readBytes(length: buffer.readableBytes) ?? [],
                            localAddress: local)
        } catch {
            try? await channel.close()
            throw error
        }
    }
}

/// Sends the request once connected and completes with the aggregated answer.
private final class HTTPExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = NIOHTTPClientResponseFull
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let body: [UInt8]?
    private let promise: EventLoopPromise<NIOHTTPClientResponseFull>

    init(request: HTTPRequestHead, body: [UInt8]?, promise: EventLoopPromise<NIOHTTPClientResponseFull>) {
        self.request = request
        self.body = body
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(UPnPTransport.Failure(description: "the router closed the connection"))
        context.fireChannelInactive()
    }
}

/// Completes with the first SSDP answer that names a description URL on its sender.
private final class SSDPAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let promise: EventLoopPromise<URL?>

    init(promise: EventLoopPromise<URL?>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.data.readableBytes <= SSDP.maxAnswerSize,
              let source = envelope.remoteAddress.ipAddress.flatMap({ IPAddress($0) }),
              let url = SSDP.location(inAnswer: Array(envelope.data.readableBytesView), from: source) else { return }
        promise.succeed(url)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // An ICMP unreachable from a router without SSDP: keep listening until the timeout.
        SwarmNode.trace("SSDP: \(error)")
    }
}
