import Metainfo
import NIOCore
import PeerWire

/// The BEP 10 handshake, the dispatch of extension messages to their
/// sub-machines, and the wiring of the metadata exchange (MetadataExchange.swift).
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
            holepunchPeerReady(key)
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
        case UTHolepunch.extensionName?:
            receivedHolepunchMessage(payload, from: key, now: now)
        default:
            break  // an extension we did not offer: ignore, as BEP 10 asks
        }
    }

    private mutating func receivedMetadataMessage(_ message: UTMetadata.Message, from key: PeerKey, now: Double) {
        switch message {
        case .request(let piece):
            guard let remoteID = peers[key]?.extensions?.id(of: UTMetadata.extensionName) else { return }
            let reply = MetadataExchange.reply(to: piece, of: info?.rawBytes)
            actions.append(.send(key, .extended(id: remoteID, payload: ByteBuffer(bytes: UTMetadata.encode(reply)))))
        case .reject(let piece):
            metadataExchange.rejected(piece, by: key)
        case .data(let piece, let totalSize, let payload):
            guard info == nil else { return }
            let outcome: MetadataAssembler.Outcome?
            do { outcome = try metadataExchange.received(piece, totalSize: totalSize, payload: payload, from: key) } catch {
                return disconnect(key, "\(error)")
            }
            switch outcome {
            case nil:
                return
            case .incomplete?:
                requestMetadataIfNeeded(key, now: now)
            case .complete(let info)?:
                actions.append(.metadataReceived(info))
                adopt(info, have: Bitfield(count: info.pieceCount))
                for peerKey in Array(peers.keys) { fillRequests(peerKey, now: now) }
            case .rejected(let reason, let senders)?:
                if senders.isEmpty {
                    actions.append(.fail(reason: reason))
                } else {
                    for sender in senders { ban(sender, reason: reason) }
                }
            }
        }
    }

    /// While the metadata is missing: ask this peer for pieces nobody else is fetching.
    mutating func requestMetadataIfNeeded(_ key: PeerKey, now: Double) {
        guard info == nil, let peer = peers[key], let remoteID = peer.extensions?.id(of: UTMetadata.extensionName) else { return }
        let pieces: [Int]
        do {
            pieces = try metadataExchange.piecesToRequest(from: key, advertisedSize: peer.extensions?.metadataSize,
                                                          advertised: peers.mapValues { $0.extensions?.metadataSize }, now: now)
        } catch {
            return disconnect(key, "\(error)")
        }
        for piece in pieces {
            actions.append(.send(key, .extended(id: remoteID, payload: ByteBuffer(bytes: UTMetadata.encode(.request(piece: piece))))))
        }
    }
}
