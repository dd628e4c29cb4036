import NIOCore

extension UTPConnection {
    /// Sends what the state and the windows allow: lost packets first, then new data, the FIN
    /// after the last byte, and a bare STATE when an ACK is owed and nothing else carried it
    /// (unless `sendingBareAck` is false: the caller sends it later with `sendDeferredAck`).
    mutating func flush(now: UInt64, into output: inout UTPConnectionOutput, sendingBareAck: Bool = true) {
        guard !state.isClosed else { return }
        resendLostPackets(now: now, into: &output)
        if state == .connected || state == .finSent {
            sendNewData(now: now, into: &output)
            if closeRequested, !finQueued, pendingSendBytes == 0,
               sendBuffer.count < configuration.maximumPacketsInFlight {
                finQueued = true
                let sequenceNumber = sendBuffer.append(type: .fin, payload: ByteBuffer())
                transmit(sequenceNumber, now: now, into: &output)
            }
        }
        if ackNeeded, sendingBareAck, state != .synSent {
            transmitControl(.state, now: now, into: &output)
        }
        if retransmitDeadline == nil, sendBuffer.bytesInFlight > 0 {
            retransmitDeadline = now &+ UInt64(roundTrip.timeout) * 1_000
        }
    }

    /// Whether a packet of `cost` bytes fits the congestion window. One packet may always be in
    /// flight, so the delay keeps being measured however small the window gets.
    private func congestionWindowAllows(_ cost: Int) -> Bool {
        let inFlight = sendBuffer.bytesInFlight
        return inFlight == 0 || Double(inFlight + cost) <= congestion.window
    }

    private mutating func resendLostPackets(now: UInt64, into output: inout UTPConnectionOutput) {
        while let index = sendBuffer.firstPendingResend {
            guard congestionWindowAllows(sendBuffer.packets[index].cost) else {
                lastWindowLimitedAt = now
                return
            }
            statistics.packetsRetransmitted += 1
            transmit(sendBuffer.packets[index].sequenceNumber, now: now, into: &output)
        }
    }

    private mutating func sendNewData(now: UInt64, into output: inout UTPConnectionOutput) {
        let maximumPayload = configuration.maximumPayloadSize
        while pendingSendBytes > 0, sendBuffer.count < configuration.maximumPacketsInFlight {
            let size = min(maximumPayload, pendingSendBytes)
            let cost = UTPHeader.length + size
            guard congestionWindowAllows(cost) else {
                lastWindowLimitedAt = now
                return
            }
            guard peerWindowAllows(cost, now: now) else { return }
            let sequenceNumber = sendBuffer.append(type: .data, payload: takePending(size))
            transmit(sequenceNumber, now: now, into: &output)
        }
    }

    /// The peer's receive window. When it is too small for even one packet and nothing is in
    /// flight, a single packet goes out as a probe after one retransmission timeout, so a lost
    /// window update cannot stall the connection forever.
    private mutating func peerWindowAllows(_ cost: Int, now: UInt64) -> Bool {
        let inFlight = sendBuffer.bytesInFlight
        if inFlight + cost <= peerWindow {
            zeroWindowProbeAt = nil
            return true
        }
        guard inFlight == 0 else { return false }
        guard let probeAt = zeroWindowProbeAt else {
            zeroWindowProbeAt = now &+ UInt64(roundTrip.timeout) * 1_000
            return false
        }
        guard now >= probeAt else { return false }
        zeroWindowProbeAt = nil
        return true
    }

    /// Cuts `size` bytes off the front of the queued application data.
    private mutating func takePending(_ size: Int) -> ByteBuffer {
        var result: ByteBuffer?
        var remaining = size
        while remaining > 0, var head = pendingSend.popFirst() {
            let length = min(remaining, head.readableBytes)
            let slice = head.readSlice(length: length)!
            if head.readableBytes > 0 { pendingSend.prepend(head) }
            if result == nil {
                result = slice
            } else {
                result!.writeImmutableBuffer(slice)
            }
            remaining -= length
        }
        pendingSendBytes -= size
        return result ?? ByteBuffer()
    }

    /// (Re)sends the held packet with this sequence number.
    mutating func transmit(_ sequenceNumber: UInt16, now: UInt64, into output: inout UTPConnectionOutput) {
        guard let index = sendBuffer.index(of: sequenceNumber) else { return }
        let packet = sendBuffer.markSent(at: index, now: now)
        let isSyn = packet.type == .syn
        emit(
            type: packet.type, connectionID: isSyn ? receiveConnectionID : sendConnectionID,
            sequenceNumber: sequenceNumber, ackNumber: isSyn ? 0 : receiveBuffer.ackNumber,
            payload: packet.payload, now: now, into: &output)
    }

    /// Sends a packet that takes no sequence number: a STATE (ACK) or a RESET.
    mutating func transmitControl(_ type: UTPPacketType, now: UInt64, into output: inout UTPConnectionOutput) {
        emit(
            type: type, connectionID: sendConnectionID, sequenceNumber: sendBuffer.nextSequenceNumber,
            ackNumber: receiveBuffer.ackNumber, payload: ByteBuffer(), now: now, into: &output)
    }

    private mutating func emit(
        type: UTPPacketType, connectionID: UInt16, sequenceNumber: UInt16, ackNumber: UInt16,
        payload: ByteBuffer, now: UInt64, into output: inout UTPConnectionOutput
    ) {
        let header = UTPHeader(
            type: type, connectionID: connectionID, timestampMicroseconds: UTPTimestamp.microseconds(now),
            timestampDifferenceMicroseconds: replyMicroseconds, windowSize: UInt32(clamping: advertisedWindow),
            sequenceNumber: sequenceNumber, ackNumber: ackNumber)
        let sack = type == .syn ? nil : receiveBuffer.selectiveAck(maximumBytes: configuration.maximumSelectiveAckBytes)
        output.datagrams.append(UTPPacketCodec.encode(UTPPacket(header: header, selectiveAck: sack, payload: payload)))
        statistics.packetsSent += 1
        lastSentAt = now
        // Every packet but a RESET carries the current ack_nr.
        if type != .reset { ackNeeded = false }
    }

    /// Fires the timers due at `now`.
    mutating func runTimers(now: UInt64, into output: inout UTPConnectionOutput) {
        if let deadline = retransmitDeadline, now >= deadline {
            handleRetransmissionTimeout(now: now, into: &output)
            if state.isClosed { return }
        }
        if now &- lastReceivedAt >= configuration.idleTimeout.nanosecondsUInt
            || (state == .synReceived && now &- lastReceivedAt >= configuration.halfOpenTimeout.nanosecondsUInt) {
            enterClosed(.timedOut, into: &output)
            return
        }
        if let finAckedAt, !peerFinished, now &- finAckedAt >= configuration.finLingerTimeout.nanosecondsUInt {
            enterClosed(.finished, into: &output)
            return
        }
        if state == .connected || state == .finSent, sendBuffer.isEmpty,
           now &- lastSentAt >= configuration.keepAliveInterval.nanosecondsUInt {
            ackNeeded = true
        }
    }

    private mutating func handleRetransmissionTimeout(now: UInt64, into output: inout UTPConnectionOutput) {
        guard !sendBuffer.isEmpty else {
            retransmitDeadline = nil
            return
        }
        consecutiveTimeouts += 1
        statistics.timeouts += 1
        let limit = state == .synSent ? configuration.maximumSynRetransmissions : configuration.maximumRetransmissions
        guard consecutiveTimeouts <= limit else {
            enterClosed(.timedOut, into: &output)
            return
        }
        roundTrip.backOff()
        if state != .synSent { congestion.onTimeout() }
        sendBuffer.markAllLost()
        duplicateAckCount = 0
        // The timeout is this window's congestion event; losses found in it do not halve again.
        recoveryEnd = sendBuffer.nextSequenceNumber
        retransmitDeadline = now &+ UInt64(roundTrip.timeout) * 1_000
    }
}
