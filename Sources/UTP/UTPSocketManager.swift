import NIOCore

/// Identifies a connection on a shared UDP socket: the peer's address and the connection ID
/// the peer puts in the packets it sends us.
public struct UTPConnectionKey<Address: Hashable & Sendable>: Hashable, Sendable {
    public var address: Address
    public var receiveConnectionID: UInt16

    public init(address: Address, receiveConnectionID: UInt16) {
        self.address = address
        self.receiveConnectionID = receiveConnectionID
    }
}

/// A datagram for the socket.
public struct UTPOutgoingDatagram<Address: Hashable & Sendable>: Sendable {
    public var address: Address
    public var bytes: ByteBuffer
}

/// The uTP side of one UDP socket, sans-I/O (libtorrent's `utp_socket_manager`): decodes each
/// datagram once, routes it to its connection by (address, connection ID), accepts SYNs within
/// bounds, answers packets for unknown connections with ST_RESET, and runs the connections'
/// timers. Generic over the address type so tests use plain values and the NIO adapter uses
/// `SocketAddress`. Randomness (connection IDs, initial sequence numbers) is passed in.
///
/// Bounds against floods: at most `maximumConnections` connections, of which at most
/// `maximumHalfOpenConnections` may be accepted-but-not-yet-confirmed; a SYN past that bound
/// evicts the oldest half-open one (silently: its source is likely forged), so a flood from
/// many ports holds fixed state, and a real initiator, which confirms within one round trip,
/// still gets through.
public struct UTPSocketManager<Address: Hashable & Sendable>: Sendable {
    public typealias Key = UTPConnectionKey<Address>

    public struct Configuration: Sendable {
        public var connection = UTPConnectionConfiguration()
        public var maximumConnections = 1_024
        public var maximumHalfOpenConnections = 64
        public var acceptsIncoming = true
        /// Cleanly finished connections remembered so that a FIN resent after our last ACK was
        /// lost is acknowledged again rather than reset (see `UTPTimeWait`). 60 s outlasts a
        /// peer's retransmissions of its FIN, like Linux's TCP TIME_WAIT.
        public var timeWaitDuration: TimeAmount = .seconds(60)
        public var maximumTimeWaitConnections = 1_024

        public init() {}
    }

    public enum Event: Equatable, Sendable {
        /// A SYN was accepted: a new incoming connection (not yet confirmed by the initiator).
        case accepted(Key)
        case connected(Key)
        case delivered(Key, ByteBuffer)
        case endOfStream(Key)
        /// The connection is gone from the manager.
        case closed(Key, UTPCloseReason)
    }

    public struct Output: Sendable {
        public var datagrams: [UTPOutgoingDatagram<Address>] = []
        public var events: [Event] = []
        public var nextWakeup: NIODeadline?
    }

    /// Counters of what the manager turned away.
    public struct Statistics: Equatable, Sendable {
        public var malformedDatagrams = 0
        public var resetsSent = 0
        public var synsRefused = 0
        public var halfOpenEvicted = 0
        public var connectionIDCollisions = 0
        /// Packets of finished connections acknowledged again instead of reset.
        public var timeWaitAcks = 0
    }

    public let configuration: Configuration
    public private(set) var statistics = Statistics()
    private var connections: [Key: UTPConnection] = [:]
    /// Accepted connections still in `synReceived`, oldest first.
    private var halfOpen: [Key] = []
    /// Connections that owe an ACK held back by a deferring `receive` or `consumed`.
    private var deferredAcks: Set<Key> = []
    private var timeWait: UTPTimeWait<Key>

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.timeWait = UTPTimeWait(capacity: configuration.maximumTimeWaitConnections, duration: configuration.timeWaitDuration)
    }

    public var connectionCount: Int { connections.count }
    public var halfOpenCount: Int { halfOpen.count }
    public func connection(_ key: Key) -> UTPConnection? { connections[key] }
    public var connectionKeys: [Key] { Array(connections.keys) }
    /// Application bytes queued on `key` and not yet sent once (nil: no such connection), for
    /// the adapter's back-pressure toward the writer.
    public func bufferedSendBytes(on key: Key) -> Int? { connections[key]?.bufferedSendBytes }

    /// Handles one datagram from the socket (already classified as uTP or not: anything that
    /// does not decode is counted and dropped). `deferringAcks`: ACKs owed for DATA are held
    /// until `sendDeferredAcks`, which the caller runs once its read batch is processed (as
    /// libtorrent and libutp do): one STATE per burst instead of one per packet, which halves
    /// the datagrams both ends handle in a bulk transfer.
    public mutating func receive<R: RandomNumberGenerator>(
        _ datagram: ByteBuffer, from address: Address, now: NIODeadline, random: inout R, deferringAcks: Bool = false
    ) -> Output {
        var output = Output()
        guard let packet = try? UTPPacketCodec.decode(datagram) else {
            statistics.malformedDatagrams += 1
            return finish(output)
        }
        let header = packet.header
        switch header.type {
        case .syn:
            receiveSyn(packet, from: address, now: now, random: &random, into: &output)
        case .reset:
            // A RESET names either our receive ID or our send ID (libutp sends either).
            for id in [header.connectionID, header.connectionID &+ 1, header.connectionID &- 1] {
                let key = Key(address: address, receiveConnectionID: id)
                if let connection = connections[key],
                   connection.receiveConnectionID == header.connectionID || connection.sendConnectionID == header.connectionID {
                    update(key, now: now, into: &output) { $0.receive(packet, now: now) }
                    break
                }
            }
        case .data, .fin, .state:
            let key = Key(address: address, receiveConnectionID: header.connectionID)
            if connections[key] != nil {
                update(key, now: now, into: &output) { $0.receive(packet, now: now, deferringAck: deferringAcks) }
                if deferringAcks { noteDeferredAck(key) }
                break
            }
            switch timeWait.answer(header, for: key, now: now.uptimeNanoseconds) {
            case .notLingering:
                sendReset(answering: header, to: address, random: &random, into: &output)
            case .drop:
                break
            case .acknowledge(let ack):
                output.datagrams.append(UTPOutgoingDatagram(address: address, bytes: UTPPacketCodec.encode(UTPPacket(header: ack))))
                statistics.timeWaitAcks += 1
            }
        }
        return finish(output)
    }

    private mutating func receiveSyn<R: RandomNumberGenerator>(
        _ syn: UTPPacket, from address: Address, now: NIODeadline, random: inout R, into output: inout Output
    ) {
        let header = syn.header
        let key = Key(address: address, receiveConnectionID: header.connectionID &+ 1)
        if let existing = connections[key] {
            if existing.sendConnectionID == header.connectionID {
                // The same initiator repeating its SYN: the connection answers it again.
                update(key, now: now, into: &output) { $0.receive(syn, now: now) }
            } else {
                // Our own outgoing connection to this address already receives on that ID.
                statistics.connectionIDCollisions += 1
                sendReset(answering: header, to: address, random: &random, into: &output)
            }
            return
        }
        guard configuration.acceptsIncoming, connections.count < configuration.maximumConnections
            || !halfOpen.isEmpty
        else {
            statistics.synsRefused += 1
            sendReset(answering: header, to: address, random: &random, into: &output)
            return
        }
        if halfOpen.count >= configuration.maximumHalfOpenConnections || connections.count >= configuration.maximumConnections {
            let oldest = halfOpen.removeFirst()
            connections[oldest] = nil
            statistics.halfOpenEvicted += 1
            output.events.append(.closed(oldest, .timedOut))
        }
        let (connection, connectionOutput) = UTPConnection.accept(
            syn: syn, initialSequenceNumber: .random(in: .min ... .max, using: &random), now: now,
            configuration: configuration.connection)
        timeWait.forget(key)
        connections[key] = connection
        halfOpen.append(key)
        output.events.append(.accepted(key))
        apply(connectionOutput, of: key, now: now, into: &output)
    }

    /// Opens a connection to `address`. Returns nil for the key when no free connection ID was
    /// found (practically never: 65,536 IDs per address).
    public mutating func connect<R: RandomNumberGenerator>(
        to address: Address, now: NIODeadline, random: inout R
    ) -> (key: Key?, output: Output) {
        var output = Output()
        for _ in 0..<32 {
            let id = UInt16.random(in: .min ... .max, using: &random)
            let key = Key(address: address, receiveConnectionID: id)
            guard connections[key] == nil, !timeWait.contains(key) else { continue }
            let (connection, connectionOutput) = UTPConnection.connect(
                receiveConnectionID: id, initialSequenceNumber: .random(in: .min ... .max, using: &random), now: now,
                configuration: configuration.connection)
            connections[key] = connection
            apply(connectionOutput, of: key, now: now, into: &output)
            return (key, finish(output))
        }
        return (nil, finish(output))
    }

    public mutating func send(_ bytes: ByteBuffer, on key: Key, now: NIODeadline) -> Output {
        var output = Output()
        update(key, now: now, into: &output) { $0.send(bytes, now: now) }
        return finish(output)
    }

    public mutating func consumed(_ count: Int, on key: Key, now: NIODeadline, deferringAck: Bool = false) -> Output {
        var output = Output()
        update(key, now: now, into: &output) { $0.consumed(count, now: now, deferringAck: deferringAck) }
        if deferringAck { noteDeferredAck(key) }
        return finish(output)
    }

    /// Sends the ACKs that deferring `receive`s and `consumed`s held back.
    public mutating func sendDeferredAcks(now: NIODeadline) -> Output {
        var output = Output()
        let keys = deferredAcks
        deferredAcks.removeAll(keepingCapacity: true)
        for key in keys where connections[key]?.owesAck == true {
            update(key, now: now, into: &output) { $0.sendDeferredAck(now: now) }
        }
        return finish(output)
    }

    private mutating func noteDeferredAck(_ key: Key) {
        if connections[key]?.owesAck == true { deferredAcks.insert(key) }
    }

    public mutating func close(_ key: Key, now: NIODeadline) -> Output {
        var output = Output()
        update(key, now: now, into: &output) { $0.close(now: now) }
        return finish(output)
    }

    public mutating func abort(_ key: Key, now: NIODeadline) -> Output {
        var output = Output()
        update(key, now: now, into: &output) { $0.abort(now: now) }
        return finish(output)
    }

    /// Runs every connection's timers that are due.
    public mutating func tick(now: NIODeadline) -> Output {
        var output = Output()
        for key in Array(connections.keys) {
            guard let due = connections[key]?.nextWakeup, due <= now else { continue }
            update(key, now: now, into: &output) { $0.tick(now: now) }
        }
        return finish(output)
    }

    /// The earliest timer of any connection (a linear scan; a timer wheel can replace it when
    /// connection counts grow).
    public var nextWakeup: NIODeadline? {
        connections.values.lazy.compactMap(\.nextWakeup).min()
    }

    /// Runs `body` on the connection in place. Taking a copy out of the dictionary and storing
    /// it back would share the connection's buffers between the two for the duration, so the
    /// first append to either copied the whole send queue: once per packet.
    private mutating func update(_ key: Key, now: NIODeadline, into output: inout Output, _ body: (inout UTPConnection) -> UTPConnectionOutput) {
        guard let index = connections.index(forKey: key) else { return }
        let result = body(&connections.values[index])
        apply(result, of: key, now: now, into: &output)
    }

    private mutating func apply(_ result: UTPConnectionOutput, of key: Key, now: NIODeadline, into output: inout Output) {
        for datagram in result.datagrams {
            output.datagrams.append(UTPOutgoingDatagram(address: key.address, bytes: datagram))
        }
        for payload in result.delivered { output.events.append(.delivered(key, payload)) }
        for event in result.events {
            switch event {
            case .connected:
                halfOpen.removeAll { $0 == key }
                output.events.append(.connected(key))
            case .endOfStream:
                output.events.append(.endOfStream(key))
            case .closed(let reason):
                if reason == .finished, let closed = connections[key], closed.peerFinished { rememberFinished(closed, as: key, now: now) }
                connections[key] = nil
                halfOpen.removeAll { $0 == key }
                output.events.append(.closed(key, reason))
            }
        }
    }

    /// Keeps what a cleanly finished connection needs to acknowledge the peer's FIN again.
    private mutating func rememberFinished(_ connection: UTPConnection, as key: Key, now: NIODeadline) {
        timeWait.remember(key, UTPTimeWait.Entry(
            sendConnectionID: connection.sendConnectionID, sequenceNumber: connection.sendBuffer.nextSequenceNumber,
            ackNumber: connection.receiveBuffer.ackNumber,
            window: UInt32(clamping: configuration.connection.receiveBufferSize)), now: now.uptimeNanoseconds)
    }

    /// Answers a packet that belongs to no connection, so the peer gives up at once instead of
    /// retransmitting into the void. Never answers a RESET (no loops); a RESET is no larger
    /// than what it answers, so it cannot amplify a forged-source flood.
    private mutating func sendReset<R: RandomNumberGenerator>(
        answering header: UTPHeader, to address: Address, random: inout R, into output: inout Output
    ) {
        guard header.type != .reset else { return }
        let reset = UTPHeader(
            type: .reset, connectionID: header.connectionID, timestampMicroseconds: 0,
            timestampDifferenceMicroseconds: 0, windowSize: 0,
            sequenceNumber: .random(in: .min ... .max, using: &random), ackNumber: header.sequenceNumber)
        output.datagrams.append(UTPOutgoingDatagram(address: address, bytes: UTPPacketCodec.encode(UTPPacket(header: reset))))
        statistics.resetsSent += 1
    }

    private func finish(_ output: Output) -> Output {
        var output = output
        output.nextWakeup = nextWakeup
        return output
    }
}
