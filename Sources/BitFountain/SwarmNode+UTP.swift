import Identity
import Metainfo
import NIOCore
import UTP

/// The uTP side of a node (issue 12): the socket (the DHT's when it shares our port, else
/// one of our own on the TCP port), outgoing dials (uTP racing TCP with a head start), and
/// incoming uTP connections, which get the same pipeline as TCP ones.
final class UTPTransport {
    let socket: UTPSocket
    var memory = PeerTransportMemory()
    /// Incoming uTP connections handed to the pipeline so far (confirmed by their initiator).
    var acceptedConnections = 0
    /// How raced dials went (the trace, counted).
    var raceStatistics = TransportRaceStatistics()

    init(socket: UTPSocket) {
        self.socket = socket
    }
}

extension SwarmNode {
    /// How long an outgoing uTP connect may take before it counts as failed. libtorrent waits
    /// ~3 s; a live uTP peer answers the SYN within one round trip (a lost first SYN is sent
    /// again after 1 s, so two chances fit). TCP does not wait for it: see `utpHeadStart`.
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

    /// Dials `address` for `session` (on the loop). `transport` nil: uTP and TCP race (uTP with a
    /// head start, `SwarmNode+TransportRace.swift`) unless the peer needed TCP before, then TCP
    /// alone; `.tcp` or `.utp`: that one only (holepunching needs uTP). `plaintext`: the retry of
    /// a `prefer` dial whose MSE handshake failed.
    func connect(to address: PeerAddress, for session: TorrentSession, transport: PeerTransport? = nil, plaintext: Bool = false) {
        let chosen = transport ?? (utp == nil ? .tcp : (utp!.memory.transport(for: address) ?? .utp))
        switch chosen {
        case .tcp:
            connectTCP(to: address, for: session, plaintext: plaintext)
        case .utp:
            // A peer that answered uTP before gets the whole uTP timeout before TCP, as with
            // libtorrent: a busy moment on either side must not open a needless TCP connection
            // and teach us to use TCP with a peer that speaks uTP.
            let knownUTP = utp?.memory.transport(for: address) == .utp
            TransportRaceDial(node: self, address: address, session: session, plaintext: plaintext, fallBackToTCP: transport == nil,
                              headStart: knownUTP ? Self.utpConnectTimeout : Self.utpHeadStart).start()
        }
    }

    /// A uTP stream we opened is connected and won its dial: the pipeline of an outgoing TCP one.
    func startOutgoing(_ stream: UTPStream, to address: PeerAddress, for session: TorrentSession, plaintext: Bool) {
        start(UTPChannel(stream: stream), handlers: outgoingPipeline(to: address, for: session, plaintext: plaintext))
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
