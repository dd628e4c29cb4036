import Identity
import NIOCore
import UTP

extension SwarmNode {
    /// How long uTP runs alone before TCP is dialled beside it. Long enough for a uTP SYN/ACK on
    /// any terrestrial path (intercontinental round trips are ~300 ms), so a peer that speaks uTP
    /// almost always answers first and is remembered as uTP, which NAT traversal and LEDBAT want;
    /// short enough that a peer without uTP (aria2, libtorrent with uTP off, UDP blocked) costs a
    /// fifth of `utpConnectTimeout` instead of all of it. A fixed value, as RFC 8305's connection
    /// attempt delay: we have no round-trip estimate for a peer we never reached. A lost first
    /// SYN is resent only after 1 s, so TCP then runs in parallel instead of waiting for it.
    static let utpHeadStart = TimeAmount.milliseconds(500)
}

/// How raced dials ended on this node: what the trace says, counted (event loop).
struct TransportRaceStatistics: Equatable {
    /// TCP dialled because uTP had not connected within the head start.
    var tcpAfterHeadStart = 0
    /// TCP dialled at once because uTP failed (refused, reset, no path) before the head start ended.
    var tcpAfterUTPFailure = 0
    var wonByUTP = 0
    var wonByTCP = 0
    var bothFailed = 0
}

/// The I/O of one uTP dial, on the node's loop, raced against TCP unless it is uTP only: the
/// uTP stream, the TCP channel and the two timers. `TransportRace` decides; this carries its
/// actions out. It lives as long as one of its
/// attempts or timers refers to it and lets go of both once the race is settled.
final class TransportRaceDial {
    private let node: SwarmNode
    let address: PeerAddress
    private let session: TorrentSession
    private let plaintext: Bool
    private var race: TransportRace
    private var stream: UTPStream?
    private var tcpChannel: Channel?
    private var timers: [Scheduled<Void>] = []
    private let headStart: TimeAmount

    init(node: SwarmNode, address: PeerAddress, session: TorrentSession, plaintext: Bool, fallBackToTCP: Bool,
         headStart: TimeAmount = SwarmNode.utpHeadStart) {
        race = TransportRace(fallBackToTCP: fallBackToTCP)
        self.headStart = headStart
        self.node = node
        self.address = address
        self.session = session
        self.plaintext = plaintext
    }

    func start() {
        guard let utp = node.utp, let stream = utp.socket.connect(to: address.socketAddress) else {
            SwarmNode.trace("no uTP path to \(address)")
            return handle(.failed(.utp))
        }
        SwarmNode.trace("dialling \(address) over uTP")
        self.stream = stream
        stream.onConnect = { [self] in handle(.connected(.utp)) }
        stream.onClose = { [self] reason in
            SwarmNode.trace("uTP to \(address) failed (\(reason))")
            handle(.failed(.utp))
        }
        let bound = NIOLoopBound(self, eventLoop: node.loop)
        timers = [
            // With a head start as long as the timeout (a peer known to speak uTP) this is the
            // sequential dial: whichever of the two fires first, TCP starts once and uTP is given up.
            node.loop.scheduleTask(in: headStart) { bound.value.handle(.headStartElapsed) },
            node.loop.scheduleTask(in: SwarmNode.utpConnectTimeout) { bound.value.utpTimedOut() },
        ]
    }

    private func utpTimedOut() {
        guard race.utp == .pending else { return }
        SwarmNode.trace("uTP to \(address) timed out")
        abortUTP()
        handle(.failed(.utp))
    }

    private func handle(_ event: TransportRace.Event) {
        let actions = race.handle(event)
        for action in actions { perform(action, after: event) }
        if race.isSettled { settle() }
    }

    private func perform(_ action: TransportRace.Action, after event: TransportRace.Event) {
        switch action {
        case .startTCP:
            if event == .headStartElapsed {
                node.utp?.raceStatistics.tcpAfterHeadStart += 1
                SwarmNode.trace("no uTP answer from \(address) yet; trying TCP as well")
            } else {
                node.utp?.raceStatistics.tcpAfterUTPFailure += 1
                SwarmNode.trace("uTP to \(address) failed before its head start; trying TCP")
            }
            node.connectTCP(to: address, for: session, plaintext: plaintext, race: self)
        case .proceed(let transport):
            SwarmNode.trace("reached \(address) over \(transport == .utp ? "uTP" : "TCP")")
            node.utp?.memory.remember(transport, for: address)
            if transport == .utp { node.utp?.raceStatistics.wonByUTP += 1 } else { node.utp?.raceStatistics.wonByTCP += 1 }
            if transport == .utp, let stream { node.startOutgoing(stream, to: address, for: session, plaintext: plaintext) }
        case .cancel(.utp):
            SwarmNode.trace("closing the uTP attempt to \(address): TCP won")
            abortUTP()
        case .cancel(.tcp):
            SwarmNode.trace("closing the TCP attempt to \(address): uTP won")
            tcpChannel?.close(promise: nil)
        case .reportFailure:
            node.utp?.raceStatistics.bothFailed += 1
            session.connectionFailed(address)
        }
    }

    /// Detaches our callbacks first: aborting reports the close at once, and it is no failure.
    private func abortUTP() {
        guard let stream else { return }
        stream.onConnect = nil
        stream.onClose = nil
        stream.abort()
        self.stream = nil
    }

    /// The race is over: the timers and the attempts stop referring to this dial.
    private func settle() {
        for timer in timers { timer.cancel() }
        timers = []
        stream?.onConnect = nil
        stream = nil
        tcpChannel = nil
    }

    // MARK: The TCP attempt (called by `connectTCP` and its gate, on the loop)

    /// The TCP channel was created; false when the race no longer wants it (uTP won meanwhile).
    func tcpRegistered(_ channel: Channel) -> Bool {
        guard race.tcp == .pending else { return false }
        tcpChannel = channel
        return true
    }

    /// The TCP connection is up: true when it won and may carry the peer wire.
    func tcpConnected() -> Bool {
        handle(.connected(.tcp))
        return race.winner == .tcp && race.tcp == .connected
    }

    func tcpFailed() {
        handle(.failed(.tcp))
    }

    /// The winning TCP connection could not get its pipeline: the dial failed after all.
    func tcpCouldNotStart() {
        session.connectionFailed(address)
    }
}

/// Why a raced TCP attempt was not even opened: uTP won while it was being set up.
struct TransportRaceLost: Error, CustomStringConvertible {
    var description: String { "uTP won the race" }
}

/// The only handler of a raced TCP dial until the race decides: a connection that lost is
/// closed before a byte of MSE or handshake is sent, so the session never sees it (no failure,
/// no duplicate); the winner gets the peer pipeline behind this gate, which then steps aside.
final class TransportRaceGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let dial: TransportRaceDial
    private let install: SwarmNode.PipelineInstaller

    init(dial: TransportRaceDial, install: @escaping SwarmNode.PipelineInstaller) {
        self.dial = dial
        self.install = install
    }

    func channelActive(context: ChannelHandlerContext) {
        guard dial.tcpConnected() else {
            context.close(promise: nil)
            return
        }
        do {
            try install(context.pipeline.syncOperations)
        } catch {
            dial.tcpCouldNotStart()
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
