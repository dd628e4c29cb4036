import BitFountain
import NIOCore
import NIOPosix
import Testing
import UTP

/// Two `UTPSocket`s on 127.0.0.1 (real UDP sockets, real clock): a stream both ways, closed
/// cleanly, and the first-byte demultiplexing that lets the DHT share the port.
@Suite struct UTPLoopbackTests {
    /// The pattern the sender writes; position-dependent so reordering or loss shows.
    static func byte(at index: Int) -> UInt8 { UInt8(truncatingIfNeeded: (index &* 2_654_435_761) >> 11 ^ index) }

    struct Received: Sendable {
        var count = 0
        var firstMismatch: Int?
        var closeReason: UTPCloseReason?
    }

    @Test func fourMebibytesCrossLoopbackInOrderAndBothSidesClose() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let server = try await UTPSocket.bind(host: "127.0.0.1", port: 0, on: loop)
        let client = try await UTPSocket.bind(host: "127.0.0.1", port: 0, on: loop)
        let size = 4 << 20
        // Built first, off the loop, and before the hang guard starts: under load, building and
        // checking 4 MiB byte by byte in a debug build took a good part of the guard's minute.
        let payload = ByteBuffer(bytes: Array(unsafeUninitializedCapacity: size) { buffer, count in
            for index in 0..<size { buffer[index] = Self.byte(at: index) }
            count = size
        })
        let done = loop.makePromise(of: Received.self)
        let clientClosed = loop.makePromise(of: UTPCloseReason.self)
        let krpcSeen = loop.makePromise(of: Int.self)
        // Bounded: fail rather than hang if the transfer stalls.
        let timeout = loop.scheduleTask(in: .seconds(60)) {
            done.fail(ChannelError.connectTimeout(.seconds(60)))
            clientClosed.fail(ChannelError.connectTimeout(.seconds(60)))
        }
        try await loop.submit { [payload] in
            var received = Received()
            server.value.onKRPC = { envelope in krpcSeen.succeed(envelope.data.readableBytes) }
            server.value.onAccept = { stream in
                stream.onRead = { bytes in
                    // Whole chunks against the sent bytes (one memcmp each); byte by byte only
                    // to name the first mismatch.
                    if received.firstMismatch == nil,
                       bytes != payload.getSlice(at: received.count, length: min(bytes.readableBytes, size - received.count)) {
                        let offset = zip(bytes.readableBytesView, payload.readableBytesView.dropFirst(received.count))
                            .enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(bytes.readableBytes, size - received.count)
                        received.firstMismatch = received.count + offset
                    }
                    received.count += bytes.readableBytes
                }
                stream.onEnd = { stream.close() }
                stream.onClose = { reason in
                    received.closeReason = reason
                    done.succeed(received)
                }
            }
            let serverAddress = server.value.localAddress!
            let stream = try #require(client.value.connect(to: serverAddress))
            stream.write(payload)
            stream.close()
            stream.onClose = { reason in clientClosed.succeed(reason) }
        }.get()

        // A KRPC datagram to the same port goes to the DHT hook, not to uTP.
        let probe = try await DatagramBootstrap(group: loop).bind(host: "127.0.0.1", port: 0).get()
        let serverAddress = try await loop.submit { server.value.localAddress! }.get()
        try await probe.writeAndFlush(AddressedEnvelope(remoteAddress: serverAddress, data: ByteBuffer(string: "d1:y1:qe")))
        #expect(try await krpcSeen.futureResult.get() == 8)
        try await probe.close()

        let received = try await done.futureResult.get()
        #expect(received.count == size)
        #expect(received.firstMismatch == nil)
        #expect(received.closeReason == .finished)
        #expect(try await clientClosed.futureResult.get() == .finished)
        timeout.cancel()
        try await loop.submit { () -> EventLoopFuture<Void> in
            server.value.close().and(client.value.close()).map { _ in }
        }.get().get()
        try await group.shutdownGracefully()
    }
}
