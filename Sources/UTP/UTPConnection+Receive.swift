import NIOCore

extension UTPConnection {
    /// Takes one packet addressed to this connection (decoded once at the edge by the caller)
    /// and returns what to send, what to deliver and what happened. A packet that does not fit
    /// the connection (an ACK of data never sent, a STATE before the handshake, a stray SYN)
    /// changes nothing but `statistics.packetsRejected`.
    ///
    /// `deferringAck`: the ACK this packet calls for is not sent on its own (a packet we send
    /// anyway still carries it); the caller sends it with `sendDeferredAck` once the whole batch
    /// of datagrams it read is processed, so a burst is answered with one STATE, not one each.
    public mutating func receive(_ packet: UTPPacket, now: NIODeadline, deferringAck: Bool = false) -> UTPConnectionOutput {
        let t = now.uptimeNanoseconds
        var output = UTPConnectionOutput()
        guard !state.isClosed else { return output }
        process(packet, now: t, into: &output)
        flush(now: t, into: &output, sendingBareAck: !deferringAck)
        finish(&output, now: t)
        return output
    }

    private mutating func process(_ packet: UTPPacket, now: UInt64, into output: inout UTPConnectionOutput) {
        let header = packet.header
        switch header.type {
        case .reset:
            enterClosed(.reset, into: &output)
            return
        case .syn:
            // The initiator repeats its SYN when our STATE was lost: answer it again.
            if state != .synSent, header.connectionID == sendConnectionID, header.sequenceNumber == synSequenceNumber {
                lastReceivedAt = now
                ackNeeded = true
            } else {
                statistics.packetsRejected += 1
            }
            return
        case .data, .fin, .state:
            break
        }
        if state == .synSent {
            // Only the peer's STATE acknowledging our SYN opens the connection; its seq_nr is
            // the first one it will use, so everything before it counts as received.
            guard header.type == .state, header.ackNumber == synSequenceNumber else {
                statistics.packetsRejected += 1
                return
            }
            receiveBuffer = UTPReceiveBuffer(
                ackNumber: header.sequenceNumber &- 1, maximumReorderedPackets: configuration.maximumReorderedPackets)
            state = closeRequested ? .finSent : .connected
            output.events.append(.connected)
        }
        let ackClass = sendBuffer.classify(ackNumber: header.ackNumber)
        // An ACK of packets never sent is a forgery or a broken peer; an accepted connection
        // opens only on a packet that acknowledges our (random) initial sequence number, which
        // an off-path sender of forged SYNs cannot know.
        guard ackClass != .future, state != .synReceived || ackClass == .valid else {
            statistics.packetsRejected += 1
            return
        }
        statistics.packetsReceived += 1
        lastReceivedAt = now
        noteTimestamp(of: header, now: now)
        peerWindow = Int(header.windowSize)
        if state == .synReceived {
            state = .connected
            output.events.append(.connected)
        }
        if header.timestampDifferenceMicroseconds != 0 {
            queuingDelay = Int64(delayHistory.addSample(header.timestampDifferenceMicroseconds, now: now))
        }
        if ackClass == .valid {
            processAck(packet, now: now)
        }
        if header.type == .data || header.type == .fin {
            processData(packet, into: &output)
        }
    }

    /// Records the peer's send time so our next packets carry the delay it is seeing.
    mutating func noteTimestamp(of header: UTPHeader, now: UInt64) {
        if header.timestampMicroseconds != 0 {
            replyMicroseconds = UTPTimestamp.microseconds(now) &- header.timestampMicroseconds
        }
    }

    private mutating func processAck(_ packet: UTPPacket, now: UInt64) {
        let header = packet.header
        let oldestBefore = sendBuffer.oldestSequenceNumber
        var acked = sendBuffer.acknowledge(upTo: header.ackNumber, now: now)
        if let sack = packet.selectiveAck {
            acked.add(sendBuffer.applySelectiveAck(sack, ackNumber: header.ackNumber, now: now))
        }
        for sample in acked.roundTripSamples { roundTrip.addSample(sample) }
        let advanced = sendBuffer.oldestSequenceNumber != oldestBefore
        if advanced {
            consecutiveTimeouts = 0
            duplicateAckCount = 0
            retransmitDeadline = sendBuffer.isEmpty ? nil : now &+ UInt64(roundTrip.timeout) * 1_000
        } else if header.type == .state, !sendBuffer.isEmpty, lastAckNumberSeen == header.ackNumber {
            duplicateAckCount += 1
            if duplicateAckCount == 3, sendBuffer.markOldestLost() {
                statistics.fastRetransmits += 1
                registerLoss()
            }
        }
        lastAckNumberSeen = header.ackNumber
        if packet.selectiveAck != nil, sendBuffer.markLostBySelectiveAck() > 0 {
            statistics.fastRetransmits += 1
            registerLoss()
        }
        if let end = recoveryEnd, UTPSequence.distance(from: end, to: sendBuffer.oldestSequenceNumber) >= 0 {
            recoveryEnd = nil
        }
        if acked.acknowledgedFin, finAckedAt == nil {
            finAckedAt = now
        }
        if acked.bytesAcked > 0 {
            let limited = lastWindowLimitedAt.map { now &- $0 < 1_000_000_000 } ?? false
            congestion.onAck(bytesAcked: acked.bytesAcked, queuingDelay: queuingDelay, windowLimited: limited)
        }
        if peerWindow < configuration.maximumDatagramSize {
            // The peer is alive and says it is full: unanswered probes are not a dead path.
            consecutiveTimeouts = 0
        } else {
            zeroWindowProbeAt = nil
        }
    }

    /// One congestion event per window of data: halve once, then ignore further losses until
    /// everything sent before the first one is acknowledged.
    private mutating func registerLoss() {
        guard recoveryEnd == nil else { return }
        congestion.onLoss()
        recoveryEnd = sendBuffer.nextSequenceNumber
    }

    private mutating func processData(_ packet: UTPPacket, into output: inout UTPConnectionOutput) {
        let header = packet.header
        let outcome = receiveBuffer.receive(
            sequenceNumber: header.sequenceNumber, payload: packet.payload, isFin: header.type == .fin,
            room: advertisedWindow)
        switch outcome {
        case .delivered(let payloads):
            for payload in payloads {
                applicationHeldBytes += payload.readableBytes
                output.delivered.append(payload)
            }
        case .duplicate:
            statistics.duplicatePacketsReceived += 1
        case .buffered, .dropped:
            break
        }
        // Every DATA or FIN is answered, duplicates too: a repeated packet means our ACK was lost.
        ackNeeded = true
        if receiveBuffer.reachedEnd, !peerFinished {
            peerFinished = true
            output.events.append(.endOfStream)
        }
    }
}
