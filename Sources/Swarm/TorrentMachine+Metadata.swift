import Metainfo
import NIOCore
import PeerWire

extension TorrentMachine {
    /// BEP 10 handshake: our extensions, client, port, queue depth and, when we
    /// have it, the metadata size (BEP 9).
    mutating func sendExtensionHandshake(to key: PeerKey, yourIP: [UInt8]?) {
        let handshake = ExtensionHandshake(
            extensions: extensionRegistry.localIDs, client: configuration.clientName, listenPort: listenPort,
            requestQueueLength: configuration.servedRequestQueue, metadataSize: info?.rawBytes.count,
            yourIP: yourIP.flatMap { $0.count == 4 || $0.count == 16 ? $0 : nil })
        actions.append(.send(key, .extended(id: 0, payload: ByteBuffer(bytes: handshake.encoded))))
    }

    mutating func receivedExtended(id: UInt8, payload: ByteBuffer, from key: PeerKey, now: Double) {
        if id == 0 {
            do {
                peers[key]!.extensions = try ExtensionHandshake(decoding: Array(payload.readableBytesView))
            } catch {
                return disconnect(key, "\(error)")
            }
            updateQueueTarget(&peers[key]!)
            extensionHandshakeArrived(from: key)
            requestMetadataIfNeeded(key, now: now)
            return
        }
        switch extensionRegistry.name(forLocalID: id) {
        case UTMetadata.extensionName?:
            let message: UTMetadata.Message
            do { message = try UTMetadata.decode(payload) } catch { return disconnect(key, "\(error)") }
            receivedMetadataMessage(message, from: key, now: now)
        case BFFountain.extensionName?:
            receivedFountainMessage(payload, from: key, now: now)
        case UTPex.extensionName?:
            receivedPexMessage(payload, from: key, now: now)
        default:
            break  // an extension we did not offer: ignore, as BEP 10 asks
        }
    }

    private mutating func receivedMetadataMessage(_ message: UTMetadata.Message, from key: PeerKey, now: Double) {
        switch message {
        case .request(let piece):
            serveMetadata(piece, to: key)
        case .reject(let piece):
            peers[key]!.metadataRequests.removeValue(forKey: piece)
            peers[key]!.hasNoMetadata = true
        case .data(let piece, let totalSize, let payload):
            guard peers[key]!.metadataRequests.removeValue(forKey: piece) != nil, info == nil, metadata != nil else { return }
            let outcome: MetadataAssembler.Outcome
            do {
                outcome = try metadata!.add(piece: piece, totalSize: totalSize, payload: payload, from: key)
            } catch {
                return disconnect(key, "\(error)")
            }
            switch outcome {
            case .incomplete:
                requestMetadataIfNeeded(key, now: now)
            case .complete(let info):
                actions.append(.metadataReceived(info))
                adopt(info, have: Bitfield(count: info.pieceCount))
                for peerKey in Array(peers.keys) {
                    peers[peerKey]?.metadataRequests.removeAll()
                    fillRequests(peerKey, now: now)
                }
            case .rejected(let reason, let senders):
                metadata = nil
                if senders.isEmpty {
                    actions.append(.fail(reason: reason))
                } else {
                    for sender in senders { ban(sender, reason: reason) }
                }
            }
        }
    }

    private mutating func serveMetadata(_ piece: Int, to key: PeerKey) {
        guard let remoteID = peers[key]?.extensions?.id(of: UTMetadata.extensionName) else { return }
        let reply: UTMetadata.Message
        if let raw = info?.rawBytes, piece >= 0, piece < UTMetadata.pieceCount(forSize: raw.count) {
            let start = piece * UTMetadata.pieceSize
            let end = min(raw.count, start + UTMetadata.pieceSize)
            reply = .data(piece: piece, totalSize: raw.count, payload: Array(raw[start..<end]))
        } else {
            reply = .reject(piece: piece)
        }
        actions.append(.send(key, .extended(id: remoteID, payload: ByteBuffer(bytes: UTMetadata.encode(reply)))))
    }

    /// While the metadata is missing: ask this peer for pieces nobody else is fetching.
    mutating func requestMetadataIfNeeded(_ key: PeerKey, now: Double) {
        guard info == nil, let peer = peers[key], !peer.hasNoMetadata,
              let remoteID = peer.extensions?.id(of: UTMetadata.extensionName) else { return }
        // A peer that lets a request expire is not asked again; its pieces go to whoever asks next.
        for (piece, sentAt) in peer.metadataRequests where now - sentAt > configuration.metadataTimeout {
            peers[key]!.metadataRequests.removeValue(forKey: piece)
            peers[key]!.hasNoMetadata = true
        }
        guard !peers[key]!.hasNoMetadata else { return }
        // If nobody left can serve the size we are assembling (a peer lied about it), start over.
        if let assembler = metadata,
           !peers.values.contains(where: { !$0.hasNoMetadata && $0.extensions?.metadataSize == assembler.size }) {
            metadata = nil
        }
        if metadata == nil {
            guard let size = peer.extensions?.metadataSize else { return }
            do { metadata = try MetadataAssembler(infoHash: infoHash, size: size) } catch {
                return disconnect(key, "\(error)")
            }
        }
        guard let assembler = metadata, peer.extensions?.metadataSize == assembler.size else { return }
        let inFlight = Set(peers.values.flatMap { $0.metadataRequests.keys })
        for piece in assembler.missingPieces where !inFlight.contains(piece) {
            guard peers[key]!.metadataRequests.count < configuration.metadataRequestsPerPeer else { break }
            peers[key]!.metadataRequests[piece] = now
            actions.append(.send(key, .extended(id: remoteID, payload: ByteBuffer(bytes: UTMetadata.encode(.request(piece: piece))))))
        }
    }
}
