import Identity
import Metainfo
import NIOCore
import UTP

/// The uTP side of a node (issue 12): the socket (the DHT's when it shares our port, else
/// one of our own on the TCP port), outgoing dials with uTP first and TCP as the fallback,
/// and incoming uTP connections, which get the same pipeline as TCP ones.
final class UTPTransport {
    let socket: UTPSocket
    var memory = PeerTransportMemory()
    /// Incoming uTP connections handed to the pipeline so far (confirmed by their initiator).
    var acceptedConnections = 0

    init(socket: UTPSocket) {
        self.socket = socket
    }
}

/// One outgoing uTP connect: the first of connected, failed and timed out settles it.
private final class UTPDialAttempt {
    var timeout: Scheduled<Void>?
    var onTimeout: (() -> Void)?
    private var settled = false

    /// Settles the attempt: returns the timeout action the first time (the timer calls it;
    /// the others only need to know they came first), nil afterwards.
    func settle() -> (() -> Void)? {
        guard !settled else { return nil }
        settled = true
        timeout?.cancel()
        let action = onTimeout ?? {}
        onTimeout = nil
        return action
    }
}

extension SwarmNode {
    /// How long an outgoing uTP connect may take before TCP is tried instead. libtorrent
    /// waits ~3 s; a live uTP peer answers the SYN within one round trip (a lost first SYN
    /// is sent again after 1 s, so two chances fit).
    static let utpConnectTimeout = TimeAmount.milliseconds(2_500)

    /// Opens the uTP socket after the TCP listener: on the DHT's sockets when they have our
    /// port (so one port serves TCP, uTP and the DHT), else a UDP socket of our own there.
    func startUTP(sharing dht: DHTNode?) async throws {
        guard options.utp else { return }
        let bound: NIOLoopBound<UTPSocket>
        if let dht, dht.dhtPort == port {
            bound = try await UTPSocket.attach(to: await dht.udpChannels(), on: loop)
            await dht.deliverUTP { [loop] batch in
                if loop.inEventLoop { bound.value.receive(batch: batch) } else { loop.execute { bound.value.receive(batch: batch) } }
            }
        } else {
            bound = try await UTPSocket.bind(host: options.bindHost, port: Int(port), on: loop)
        }
        try await loop.submit {
            let socket = bound.value
            socket.onAccept = { [unowned self] stream in self.accepted(stream) }
            self.utp = UTPTransport(socket: socket)
        }.get()
    }

    func stopUTP() async {
        _ = try? await loop.submit { self.utp?.socket.close() ?? self.loop.makeSucceededVoidFuture() }.get().get()
    }

    /// Dials `address` for `session` (on the loop). `transport` nil: uTP first when it is on and
    /// the peer did not need TCP before, falling back to TCP; `.tcp` or `.utp`: that one only
    /// (holepunching needs uTP). `plaintext`: the retry of a `prefer` dial whose MSE handshake failed.
    func connect(to address: PeerAddress, for session: TorrentSession, transport: PeerTransport? = nil, plaintext: Bool = false) {
        let chosen = transport ?? (utp == nil ? .tcp : (utp!.memory.transport(for: address) ?? .utp))
        switch chosen {
        case .tcp: connectTCP(to: address, for: session, plaintext: plaintext)
        case .utp: connectUTP(to: address, for: session, plaintext: plaintext, fallBack: transport == nil)
        }
    }

    private func connectUTP(to address: PeerAddress, for session: TorrentSession, plaintext: Bool, fallBack: Bool) {
        let failed = { [self] in
            if fallBack { connectTCP(to: address, for: session, plaintext: plaintext) } else { session.connectionFailed(address) }
        }
        guard let utp, let stream = utp.socket.connect(to: address.socketAddress) else { return failed() }
        SwarmNode.trace("dialling \(address) over uTP")
        // One outcome per dial: connected, refused/reset, or no answer in time.
        let attempt = UTPDialAttempt()
        attempt.onTimeout = {
            SwarmNode.trace("no uTP answer from \(address); trying TCP")
            stream.abort()
            utp.memory.remember(.tcp, for: address)
            failed()
        }
        let bound = NIOLoopBound(attempt, eventLoop: loop)
        attempt.timeout = loop.scheduleTask(in: Self.utpConnectTimeout) { bound.value.settle()?() }
        stream.onClose = { reason in
            guard attempt.settle() != nil else { return }
            SwarmNode.trace("uTP to \(address) failed (\(reason)); trying TCP")
            utp.memory.remember(.tcp, for: address)
            failed()
        }
        stream.onConnect = { [self] in
            guard attempt.settle() != nil else { return }
            utp.memory.remember(.utp, for: address)
            let encryption = plaintext ? nil : outgoingEncryptionHandler(to: address, for: session)
            start(UTPChannel(stream: stream)) { pipeline in
                if let encryption { try pipeline.addHandler(encryption()) }
                try pipeline.addHandler(PeerChannelHandler(role: .outgoing(session, address)))
            }
        }
    }

    /// An incoming uTP connection, confirmed by its initiator: the pipeline of an incoming TCP one.
    private func accepted(_ stream: UTPStream) {
        SwarmNode.trace("incoming uTP from \(stream.remoteAddress)")
        utp?.acceptedConnections += 1
        start(UTPChannel(stream: stream)) { [self] pipeline in
            try pipeline.addHandler(incomingEncryptionHandler())
            try pipeline.addHandler(PeerChannelHandler(role: .incoming(self)))
        }
    }

    private func start(_ channel: UTPChannel, handlers: (ChannelPipeline.SynchronousOperations) throws -> Void) {
        do {
            try handlers(channel.pipeline.syncOperations)
            channel.activate()
        } catch {
            channel.close(promise: nil)
        }
    }
}
