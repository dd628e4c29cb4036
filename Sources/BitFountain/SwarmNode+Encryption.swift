import Metainfo
import NIOCore
import PeerWire

/// Where the node's encryption policy meets its connections: the MSE handler
/// each new channel gets, and the plaintext retry of a `prefer` dial.
extension SwarmNode {
    /// Every incoming connection gets one: it tells plaintext from MSE and applies the policy.
    func incomingEncryptionHandler() -> MSEChannelHandler {
        MSEChannelHandler(role: .incoming(encryption, lookup: { [unowned self] req2 in
            // SKEY is the infohash: find the torrent whose HASH('req2', infohash) matches.
            self.servedInfoHashes.first { MSEHashes.req2(infoHash: $0) == req2 }
        }))
    }

    /// A factory for the handler of an outgoing connection (called on the channel's loop),
    /// or nil when the policy dials in plaintext.
    func outgoingEncryptionHandler(to address: HostPort, for session: TorrentSession) -> (@Sendable () -> MSEChannelHandler)? {
        guard let offer = encryption.outgoingOffer else { return nil }
        let retries = encryption.retriesInPlaintext
        return { [self] in
            // Runs on the loop, as does the retry (from the handler's channelInactive).
            let retry: (() -> Void)? = retries ? {
                // A torrent being stopped closes its dials: let those end as failures.
                guard !session.stopped else { return session.connectionFailed(address) }
                self.connect(to: address, for: session, plaintext: true)
            } : nil
            return MSEChannelHandler(role: .outgoing(session.infoHash, offer: offer, plaintextRetry: retry))
        }
    }
}
