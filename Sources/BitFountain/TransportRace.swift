/// The decisions of one outgoing dial that races uTP against TCP, "happy eyeballs" in the spirit
/// of RFC 8305 (sans-I/O: events in, actions out; `SwarmNode+TransportRace.swift` does the I/O).
///
/// uTP starts at once; TCP starts when uTP has not connected within the head start, or at once
/// when uTP fails first (refused, reset, no socket). Both then run; the first to connect wins and
/// the other is cancelled, or closed if it connects later. Only when both fail is the dial reported
/// as failed, once. A peer without uTP so costs the head start, not the whole uTP timeout.
struct TransportRace: Equatable {
    enum Attempt: Equatable {
        /// Not started (TCP before the head start ends).
        case idle
        case pending
        case connected
        case failed
        /// Stopped by the race because the other transport won.
        case cancelled
        /// Not part of this dial (a holepunch dials uTP only).
        case excluded
    }

    enum Event: Equatable {
        /// uTP had its head start and has not connected.
        case headStartElapsed
        case connected(PeerTransport)
        /// Refused, reset, timed out, or could not be started.
        case failed(PeerTransport)
    }

    enum Action: Equatable {
        case startTCP
        /// This transport won: give it the peer pipeline and remember it for the peer.
        case proceed(PeerTransport)
        /// Stop this attempt: abort it while pending, close it if it connected after losing.
        /// Never a failure of the dial.
        case cancel(PeerTransport)
        /// Both transports failed: the session hears of it once.
        case reportFailure
    }

    private(set) var utp: Attempt = .pending
    private(set) var tcp: Attempt
    private(set) var winner: PeerTransport?

    /// `fallBackToTCP` false: uTP alone, whose failure is the dial's (holepunching needs uTP).
    init(fallBackToTCP: Bool = true) {
        tcp = fallBackToTCP ? .idle : .excluded
    }

    /// The race is over: a winner, or every attempt failed. Timers may go.
    var isSettled: Bool { winner != nil || (utp == .failed && (tcp == .failed || tcp == .excluded)) }

    mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .headStartElapsed:
            guard winner == nil, utp == .pending, tcp == .idle else { return [] }
            tcp = .pending
            return [.startTCP]
        case .connected(let transport):
            guard winner == nil, self[transport] == .pending else {
                // Lost already (or was given up): it must not reach the session.
                if self[transport] == .pending { self[transport] = .cancelled }
                return [.cancel(transport)]
            }
            winner = transport
            self[transport] = .connected
            let other = transport.other
            guard self[other] == .pending else { return [.proceed(transport)] }
            self[other] = .cancelled
            return [.proceed(transport), .cancel(other)]
        case .failed(let transport):
            guard winner == nil, self[transport] == .pending else { return [] }
            self[transport] = .failed
            switch self[transport.other] {
            case .idle:
                self[transport.other] = .pending
                return [.startTCP]
            case .failed, .excluded:
                return [.reportFailure]
            case .pending, .connected, .cancelled:
                return []
            }
        }
    }

    private subscript(transport: PeerTransport) -> Attempt {
        get { transport == .utp ? utp : tcp }
        set { if transport == .utp { utp = newValue } else { tcp = newValue } }
    }
}

extension PeerTransport {
    var other: PeerTransport { self == .utp ? .tcp : .utp }
}
