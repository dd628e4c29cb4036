import DHT
import Identity
import Metainfo

/// KRPC (BEP 5 and the BEPs around it): the decoder alone, and the two places
/// that take datagrams from the Internet, a DHT node's core and the router's.
enum KRPCTarget {
    /// decode → write → decode gives the same message, and writing is stable.
    @Sendable static func roundTrip(_ bytes: [UInt8]) {
        guard let message = try? KRPCDecoder.decode(bytes) else { return }
        guard let written = write(message) else { return }
        let again: KRPCMessage
        do {
            again = try KRPCDecoder.decode(written)
        } catch {
            require(false, "a re-written message does not decode: \(error)")
            return
        }
        require(again.transactionID == message.transactionID, "transaction ID changed")
        switch (message.body, again.body) {
        case (.query(let first), .query(let second)):
            require(first == second, "query changed: \(first) → \(second)")
            require(again.readOnly == message.readOnly, "ro changed")
        case (.response(let first), .response(let second)):
            require(first == second, "response changed: \(first) → \(second)")
            require(again.requesterAddress == message.requesterAddress, "ip changed")
        case (.error(let first), .error(let second)):
            require(first.code == second.code, "error code changed")
        default:
            require(false, "message type changed")
        }
        // Error messages are cut to 100 bytes once; after that the writer is stable.
        let rewritten = write(again)
        require(rewritten.flatMap { try? KRPCDecoder.decode($0) }.flatMap(write) == rewritten, "writing is not stable")
    }

    /// What the writer makes of a decoded message; nil for methods we never send.
    private static func write(_ message: KRPCMessage) -> [UInt8]? {
        var writer = KRPCWriter()
        switch message.body {
        case .query(let query):
            if case .unknown = query { return nil }
            writer.writeQuery(query, transactionID: message.transactionID, readOnly: message.readOnly, signer: nil)
        case .response(let response):
            writer.writeResponse(response, transactionID: message.transactionID, requester: message.requesterAddress, signer: nil)
        case .error(let error):
            writer.writeError(error, transactionID: message.transactionID)
        }
        return writer.buffer
    }

    /// One node, fed datagrams from a handful of sources: nothing it sends is
    /// malformed or oversized, and it never crashes.
    nonisolated(unsafe) private static var core: DHTCore = {
        let key = Ed25519.SigningKey(seed: [UInt8](repeating: 7, count: 32))!
        var configuration = DHTConfiguration()
        configuration.families = [.v4]
        return DHTCore(configuration: configuration, authenticator: Ed25519Authenticator(key: key), randomSeed: 1,
                       now: .seconds(1_000))
    }()
    nonisolated(unsafe) private static var clock = DHTInstant.seconds(1_000)

    @Sendable static func node(_ bytes: [UInt8]) {
        // Loopback sources are exempt from the rate limiter, so every input reaches the decoder.
        let source = NodeAddress(ip: .v4(0x7F00_0000 | UInt32(bytes.first ?? 0)), port: 6881)
        clock = clock + .milliseconds(10)
        core.receive(bytes, from: source, now: clock)
        core.tick(now: clock)
        for datagram in core.takeOutgoing() {
            require(datagram.bytes.count <= KRPCDecoder.maxPacketSize, "node sent \(datagram.bytes.count) bytes")
            require((try? KRPCDecoder.decode(datagram.bytes)) != nil, "node sent a datagram it cannot decode itself")
        }
        _ = core.takeEvents()
    }

    /// The router: its reply fits the send buffer and decodes.
    nonisolated(unsafe) private static var router: RouterCore = {
        var configuration = RouterConfiguration()
        configuration.capacity = 64
        configuration.admitDelay = .seconds(1)
        configuration.rateLimitPerSecond = 0  // every input reaches the decoder
        configuration.requesterSlots = 1_024
        configuration.admissionQueueCapacity = 64
        return RouterCore(configuration: configuration, nodeID: NodeID(hex: String(repeating: "ab", count: 20))!,
                          ring4: ContactRing(memory: HeapRingMemory(family: .v4, entryCount: 64), hashKey: (1, 2)),
                          ring6: ContactRing(memory: HeapRingMemory(family: .v6, entryCount: 64), hashKey: (3, 4)),
                          secret: (11, 12), seed: 13)
    }()
    nonisolated(unsafe) private static var reply = [UInt8](repeating: 0, count: RouterCore.sendBufferSize)

    @Sendable static func router(_ bytes: [UInt8]) {
        // Public (routable) sources: private ones are dropped before decoding.
        let source = NodeAddress(ip: .v4(0x5000_0000 | UInt32(bytes.first ?? 0) << 8 | UInt32(bytes.last ?? 0)), port: 6881)
        clock = clock + .milliseconds(10)
        let length = bytes.withUnsafeBytes { packet in
            reply.withUnsafeMutableBytes { router.receive(packet, from: source, now: clock, reply: $0) }
        }
        require(length >= 0 && length <= reply.count, "reply length \(length)")
        if length > 0 {
            require((try? KRPCDecoder.decode(Array(reply[0..<length]))) != nil, "router replied with a datagram that does not decode")
        }
        reply.withUnsafeMutableBytes { buffer in
            while let (_, length) = router.nextDuePing(now: clock, into: buffer) {
                require(length > 0 && length <= buffer.count, "ping length \(length)")
            }
        }
    }
}
