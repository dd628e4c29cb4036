import Metainfo

/// The responder (B, the side that was dialled) of an MSE handshake, sans-I/O.
/// It learns which torrent is meant from HASH('req2', SKEY) by asking `lookup`,
/// which maps that hash to an infohash we serve (SKEY is the infohash).
/// See `MSEInitiator` for the message sequence.
public struct MSEResponder: MSEHandshakeSteps {
    enum State {
        case awaitingPublicKey
        case awaitingReq1(secret: [UInt8])
        case awaitingReq2(secret: [UInt8])
        case awaitingProvide(infoHash: InfoHash, outgoing: RC4, incoming: RC4)
        case awaitingPadC(length: Int, method: MSECryptoMethods, infoHash: InfoHash, outgoing: RC4, incoming: RC4)
        case awaitingInitialPayload(length: Int, method: MSECryptoMethods, infoHash: InfoHash,
                                    outgoing: RC4, incoming: RC4)
        case established
    }

    private let accept: MSECryptoMethods
    private let keys: MSEKeyExchange
    private let padB: [UInt8]
    private let padD: [UInt8]
    private let lookup: (_ req2: [UInt8]) -> InfoHash?
    var state = State.awaitingPublicKey
    var input = MSEInput()
    public internal(set) var isEstablished = false

    /// - Parameters:
    ///   - accept: the methods our policy allows. When the initiator offers both
    ///     and we accept both, we select plaintext: the handshake is still
    ///     obfuscated and the payload costs nothing to pass through (libtorrent's
    ///     default, `prefer_rc4` off, does the same).
    ///   - padB, padD: random padding, at most 512 bytes each.
    ///   - lookup: HASH('req2', infohash) → that infohash, for the torrents we serve.
    public init(accept: MSECryptoMethods, keys: MSEKeyExchange, padB: [UInt8], padD: [UInt8],
                lookup: @escaping (_ req2: [UInt8]) -> InfoHash?) {
        precondition(!accept.isEmpty && padB.count <= MSE.maxPadding && padD.count <= MSE.maxPadding)
        self.accept = accept
        self.keys = keys
        self.padB = padB
        self.padD = padD
        self.lookup = lookup
    }

    /// Feeds bytes from the peer (starting with Ya). Throws on anything the
    /// protocol does not allow; the connection must then be closed.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(MSEError) -> MSEStep {
        try runSteps(on: bytes)
    }

    mutating func advance(_ step: inout MSEStep) throws(MSEError) -> State? {
        switch state {
        case .awaitingPublicKey:
            guard input.available >= MSE.keyLength else { return nil }
            let secret = try keys.sharedSecret(peerPublicKey: input.take(MSE.keyLength))
            step.send += keys.publicKey + padB
            return .awaitingReq1(secret: secret)

        case .awaitingReq1(let secret):
            guard try input.synchronize(on: MSEHashes.req1(secret: secret), window: MSE.req1SyncWindow,
                                        name: "HASH('req1', S)") else { return nil }
            return .awaitingReq2(secret: secret)

        case .awaitingReq2(let secret):
            guard input.available >= 20 else { return nil }
            let req2 = zip(input.take(20), MSEHashes.req3(secret: secret)).map { $0 ^ $1 }
            guard let infoHash = lookup(req2) else { throw .unknownInfoHash }
            let (outgoing, incoming) = MSEHashes.ciphers(secret: secret, infoHash: infoHash, initiator: false)
            return .awaitingProvide(infoHash: infoHash, outgoing: outgoing, incoming: incoming)

        case .awaitingProvide(let infoHash, let outgoing, let incoming):
            guard input.available >= 14 else { return nil }
            let fields = input.take(14, decryptingWith: incoming)
            guard fields[0..<8].allSatisfy({ $0 == 0 }) else { throw .badVerificationConstant }
            let offered = MSECryptoMethods(rawValue: fields.bigEndian(UInt32.self, at: 8))
            let method = try select(from: offered)
            let padLength = Int(fields.bigEndian(UInt16.self, at: 12))
            guard padLength <= MSE.maxPadding else { throw .paddingTooLong(padLength) }
            return .awaitingPadC(length: padLength, method: method, infoHash: infoHash, outgoing: outgoing, incoming: incoming)

        case .awaitingPadC(let length, let method, let infoHash, let outgoing, let incoming):
            guard input.available >= length + 2 else { return nil }
            let fields = input.take(length + 2, decryptingWith: incoming)
            let payloadLength = Int(fields.bigEndian(UInt16.self, at: length))
            guard payloadLength <= MSE.maxInitialPayload else { throw .initialPayloadTooLong(payloadLength) }
            return .awaitingInitialPayload(length: payloadLength, method: method, infoHash: infoHash,
                                           outgoing: outgoing, incoming: incoming)

        case .awaitingInitialPayload(let length, let method, let infoHash, let outgoing, let incoming):
            guard input.available >= length else { return nil }
            let initialPayload = input.take(length, decryptingWith: incoming)
            var reply = MSE.verificationConstant
            reply.appendBigEndian(method.rawValue)
            reply.appendBigEndian(UInt16(padD.count))
            reply += padD
            outgoing.apply(&reply)
            step.send += reply
            let rc4 = method == .rc4
            // IA is always encrypted; what follows it only if RC4 was selected.
            let rest = rc4 ? input.take(input.available, decryptingWith: incoming) : input.takeAll()
            step.established = MSEEstablished(method: method, infoHash: infoHash, outgoing: rc4 ? outgoing : nil,
                                              incoming: rc4 ? incoming : nil, payload: initialPayload + rest)
            return .established

        case .established:
            return nil
        }
    }

    /// Plaintext when both sides allow it, else RC4 when both allow that.
    private func select(from offered: MSECryptoMethods) throws(MSEError) -> MSECryptoMethods {
        let common = offered.intersection(accept)
        if common.contains(.plaintext) { return .plaintext }
        if common.contains(.rc4) { return .rc4 }
        throw .noCommonMethod(offered: offered, accepted: accept)
    }
}
