import NIOCore

/// One uTP connection (BEP 29) as a sans-I/O state machine. It never reads a clock, touches a
/// socket or draws a random number: the caller passes `now`, the connection IDs and initial
/// sequence numbers, and sends the datagrams each call returns. The socket manager
/// (`UTPSocketManager`) routes datagrams to it by connection ID.
///
/// Concerns live in their own types: `UTPSendBuffer` (retransmission queue, ACK and SACK
/// processing), `UTPReceiveBuffer` (reordering, SACK generation, FIN), `UTPCongestionControl`
/// (LEDBAT), `UTPDelayHistory` (base delay), `UTPRoundTripEstimator` (RTT/RTO). This file holds
/// the public API; `+Receive` processes packets, `+Transmit` builds packets and runs timers.
public struct UTPConnection: Sendable {
    public let configuration: UTPConnectionConfiguration
    public internal(set) var state: UTPConnectionState
    /// The ID in the header of packets the peer sends us.
    public let receiveConnectionID: UInt16
    /// The ID we put in the header of packets we send (the SYN excepted, which carries
    /// `receiveConnectionID`).
    public let sendConnectionID: UInt16
    public internal(set) var statistics = UTPConnectionStatistics()

    var sendBuffer: UTPSendBuffer
    var receiveBuffer: UTPReceiveBuffer
    var congestion: UTPCongestionControl
    var roundTrip = UTPRoundTripEstimator()
    var delayHistory = UTPDelayHistory()

    /// Application bytes not yet cut into packets.
    var pendingSend = CircularBuffer<ByteBuffer>()
    var pendingSendBytes = 0
    /// Bytes delivered to the application and not yet reported consumed; they fill the
    /// receive window.
    var applicationHeldBytes = 0
    /// The peer's advertised receive window.
    var peerWindow: Int
    /// Our clock minus the timestamp of the peer's last packet: sent back as
    /// `timestamp_difference_microseconds` so the peer can measure its delay.
    var replyMicroseconds: UInt32 = 0
    var ackNeeded = false
    var closeRequested = false
    var finQueued = false
    var finAckedAt: UInt64?
    var peerFinished = false
    /// The SYN's sequence number (ours when we connect, the peer's when we accept).
    let synSequenceNumber: UInt16
    var duplicateAckCount = 0
    var lastAckNumberSeen: UInt16?
    /// While set, further losses belong to the same congestion event (no second halving)
    /// until the cumulative ACK reaches this sequence number.
    var recoveryEnd: UInt16?
    var consecutiveTimeouts = 0
    var retransmitDeadline: UInt64?
    var zeroWindowProbeAt: UInt64?
    var lastSentAt: UInt64
    var lastReceivedAt: UInt64
    /// The last time data waited because the congestion window was full.
    var lastWindowLimitedAt: UInt64?
    var queuingDelay: Int64 = 0

    private init(
        configuration: UTPConnectionConfiguration, state: UTPConnectionState, receiveID: UInt16, sendID: UInt16,
        sequenceNumber: UInt16, ackNumber: UInt16, synSequenceNumber: UInt16, peerWindow: Int, now: UInt64
    ) {
        self.configuration = configuration
        self.state = state
        self.receiveConnectionID = receiveID
        self.sendConnectionID = sendID
        self.sendBuffer = UTPSendBuffer(initialSequenceNumber: sequenceNumber)
        self.receiveBuffer = UTPReceiveBuffer(ackNumber: ackNumber, maximumReorderedPackets: configuration.maximumReorderedPackets)
        self.congestion = UTPCongestionControl(configuration: configuration.congestion)
        self.synSequenceNumber = synSequenceNumber
        self.peerWindow = peerWindow
        self.lastSentAt = now
        self.lastReceivedAt = now
    }

    /// Opens a connection: returns it in `synSent` with the SYN to send. `receiveConnectionID`
    /// and `initialSequenceNumber` come from the caller's random source; the peer will send
    /// to `receiveConnectionID` and we to `receiveConnectionID + 1` (BEP 29).
    public static func connect(
        receiveConnectionID: UInt16, initialSequenceNumber: UInt16, now: NIODeadline,
        configuration: UTPConnectionConfiguration = UTPConnectionConfiguration()
    ) -> (UTPConnection, UTPConnectionOutput) {
        let t = now.uptimeNanoseconds
        var connection = UTPConnection(
            configuration: configuration, state: .synSent, receiveID: receiveConnectionID,
            sendID: receiveConnectionID &+ 1, sequenceNumber: initialSequenceNumber, ackNumber: 0,
            synSequenceNumber: initialSequenceNumber, peerWindow: configuration.maximumDatagramSize, now: t)
        var output = UTPConnectionOutput()
        let syn = connection.sendBuffer.append(type: .syn, payload: ByteBuffer())
        connection.transmit(syn, now: t, into: &output)
        connection.flush(now: t, into: &output)
        connection.finish(&output, now: t)
        return (connection, output)
    }

    /// Answers a SYN: returns the connection in `synReceived` with the STATE to send. The
    /// caller has checked that `syn` is a SYN and that its connection ID is free.
    public static func accept(
        syn: UTPPacket, initialSequenceNumber: UInt16, now: NIODeadline,
        configuration: UTPConnectionConfiguration = UTPConnectionConfiguration()
    ) -> (UTPConnection, UTPConnectionOutput) {
        precondition(syn.header.type == .syn, "accept takes a SYN")
        let t = now.uptimeNanoseconds
        var connection = UTPConnection(
            configuration: configuration, state: .synReceived, receiveID: syn.header.connectionID &+ 1,
            sendID: syn.header.connectionID, sequenceNumber: initialSequenceNumber,
            ackNumber: syn.header.sequenceNumber, synSequenceNumber: syn.header.sequenceNumber,
            peerWindow: Int(syn.header.windowSize), now: t)
        var output = UTPConnectionOutput()
        connection.noteTimestamp(of: syn.header, now: t)
        connection.ackNeeded = true
        connection.flush(now: t, into: &output)
        connection.finish(&output, now: t)
        return (connection, output)
    }

    /// Queues application bytes and sends what the windows allow.
    public mutating func send(_ bytes: ByteBuffer, now: NIODeadline) -> UTPConnectionOutput {
        let t = now.uptimeNanoseconds
        var output = UTPConnectionOutput()
        if !state.isClosed, !closeRequested, bytes.readableBytes > 0 {
            pendingSend.append(bytes)
            pendingSendBytes += bytes.readableBytes
        }
        flush(now: t, into: &output)
        finish(&output, now: t)
        return output
    }

    /// The application has read `count` delivered bytes: the receive window opens again.
    /// `deferringAck` as for `receive`.
    public mutating func consumed(_ count: Int, now: NIODeadline, deferringAck: Bool = false) -> UTPConnectionOutput {
        let t = now.uptimeNanoseconds
        var output = UTPConnectionOutput()
        let before = advertisedWindow
        applicationHeldBytes -= min(max(0, count), applicationHeldBytes)
        // Tell a sender that stalled on our window that it opened, rather than leave it to probe.
        if before < configuration.maximumDatagramSize, advertisedWindow >= configuration.maximumDatagramSize,
           !state.isClosed, state != .synSent {
            ackNeeded = true
        }
        flush(now: t, into: &output, sendingBareAck: !deferringAck)
        finish(&output, now: t)
        return output
    }

    /// Whether an ACK is owed that no packet has carried yet (after a deferring `receive`).
    public var owesAck: Bool { ackNeeded && !state.isClosed && state != .synSent }

    /// Sends the ACK that deferring `receive`s or `consumed`s held back, if still owed.
    public mutating func sendDeferredAck(now: NIODeadline) -> UTPConnectionOutput {
        let t = now.uptimeNanoseconds
        var output = UTPConnectionOutput()
        guard !state.isClosed else { return output }
        flush(now: t, into: &output)
        finish(&output, now: t)
        return output
    }

    /// Half-closes: the FIN follows the queued data. The connection closes once our FIN is
    /// acknowledged and the peer's FIN has arrived (or `finLingerTimeout` passed).
    public mutating func close(now: NIODeadline) -> UTPConnectionOutput {
        let t = now.uptimeNanoseconds
        var output = UTPConnectionOutput()
        switch state {
        case .synSent:
            // The FIN follows the handshake and whatever was written before it.
            closeRequested = true
        case .synReceived, .connected:
            closeRequested = true
            state = .finSent
        case .finSent, .closed:
            break
        }
        flush(now: t, into: &output)
        finish(&output, now: t)
        return output
    }

    /// Tears the connection down at once with ST_RESET.
    public mutating func abort(now: NIODeadline) -> UTPConnectionOutput {
        let t = now.uptimeNanoseconds
        var output = UTPConnectionOutput()
        guard !state.isClosed else { return output }
        transmitControl(.reset, now: t, into: &output)
        enterClosed(.aborted, into: &output)
        return output
    }

    /// Runs the timers due at `now`: retransmission, keep-alive, idle and half-open timeouts.
    public mutating func tick(now: NIODeadline) -> UTPConnectionOutput {
        let t = now.uptimeNanoseconds
        var output = UTPConnectionOutput()
        guard !state.isClosed else { return output }
        runTimers(now: t, into: &output)
        flush(now: t, into: &output)
        finish(&output, now: t)
        return output
    }

    /// Bytes queued by the application and not yet sent once.
    public var bufferedSendBytes: Int { pendingSendBytes }
    /// Bytes sent and not yet acknowledged (in flight or waiting to be sent again).
    public var unacknowledgedPackets: Int { sendBuffer.count }

    /// What we advertise as `wnd_size`: room left in the receive buffer.
    var advertisedWindow: Int {
        max(0, configuration.receiveBufferSize - receiveBuffer.reorderedBytes - applicationHeldBytes)
    }

    /// When `tick` must run next.
    /// (Computed after every packet, so it keeps the earliest in a variable rather than
    /// collecting the candidates in an array.)
    public var nextWakeup: NIODeadline? {
        guard !state.isClosed else { return nil }
        var earliest = lastReceivedAt &+ configuration.idleTimeout.nanosecondsUInt
        if let retransmitDeadline { earliest = min(earliest, retransmitDeadline) }
        if let zeroWindowProbeAt { earliest = min(earliest, zeroWindowProbeAt) }
        if let finAckedAt, !peerFinished { earliest = min(earliest, finAckedAt &+ configuration.finLingerTimeout.nanosecondsUInt) }
        switch state {
        case .synReceived: earliest = min(earliest, lastReceivedAt &+ configuration.halfOpenTimeout.nanosecondsUInt)
        case .connected, .finSent:
            // Keep-alives only on an idle connection: packets in flight have their own timer.
            if sendBuffer.isEmpty { earliest = min(earliest, lastSentAt &+ configuration.keepAliveInterval.nanosecondsUInt) }
        case .synSent, .closed: break
        }
        return NIODeadline.uptimeNanoseconds(earliest)
    }

    /// Completes an output: closes when both directions finished, sets the wake-up.
    mutating func finish(_ output: inout UTPConnectionOutput, now: UInt64) {
        if !state.isClosed, finAckedAt != nil, peerFinished {
            // The ACK of the peer's FIN goes out before we close, even when the caller deferred
            // it: a closed connection sends nothing more, and the peer would resend its FIN
            // into a RESET.
            if ackNeeded { transmitControl(.state, now: now, into: &output) }
            enterClosed(.finished, into: &output)
        }
        statistics.congestionWindow = Int(congestion.window)
        statistics.bytesInFlight = sendBuffer.bytesInFlight
        statistics.roundTripTime = roundTrip.smoothed
        statistics.queuingDelay = queuingDelay
        output.nextWakeup = nextWakeup
    }

    mutating func enterClosed(_ reason: UTPCloseReason, into output: inout UTPConnectionOutput) {
        guard !state.isClosed else { return }
        state = .closed(reason)
        output.events.append(.closed(reason))
        // Nothing is sent again: free the buffers now rather than when the manager drops us.
        sendBuffer = UTPSendBuffer(initialSequenceNumber: sendBuffer.nextSequenceNumber)
        pendingSend.removeAll()
        pendingSendBytes = 0
        retransmitDeadline = nil
        zeroWindowProbeAt = nil
    }
}

extension TimeAmount {
    var nanosecondsUInt: UInt64 { UInt64(max(0, nanoseconds)) }
}
