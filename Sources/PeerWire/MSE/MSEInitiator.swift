import Metainfo

/// The initiator (A, the side that dialled) of an MSE handshake, sans-I/O:
/// `start()` gives step 1, `receive` takes what the peer sends and returns
/// what to send next, until the stream is established.
///
///     1 A→B  Ya, PadA
///     2 B→A  Yb, PadB
///     3 A→B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
///            ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
///     4 B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
///
/// A sends step 3 as soon as Yb is in: it does not wait for PadB, whose
/// length it cannot know; it then finds the end of PadB by looking for
/// ENCRYPT(VC), the first eight bytes of B's keystream.
public struct MSEInitiator: MSEHandshakeSteps {
    enum State {
        case awaitingPublicKey
        case awaitingVerification(expected: [UInt8], outgoing: RC4, incoming: RC4)
        case awaitingSelection(outgoing: RC4, incoming: RC4)
        case awaitingPadD(length: Int, method: MSECryptoMethods, outgoing: RC4, incoming: RC4)
        case established
    }

    private let infoHash: InfoHash
    private let offer: MSECryptoMethods
    private let keys: MSEKeyExchange
    private let padA: [UInt8]
    private let padC: [UInt8]
    private let initialPayload: [UInt8]
    var state = State.awaitingPublicKey
    var input = MSEInput()
    public internal(set) var isEstablished = false

    /// - Parameters:
    ///   - offer: `crypto_provide`: `.rc4`, or `[.plaintext, .rc4]` to let the responder choose.
    ///   - padA, padC: random padding, at most 512 bytes each.
    ///   - initialPayload: IA, sent encrypted inside step 3 (our BitTorrent handshake),
    ///     at most `MSE.maxInitialPayload` bytes.
    public init(infoHash: InfoHash, offer: MSECryptoMethods, keys: MSEKeyExchange,
                padA: [UInt8], padC: [UInt8], initialPayload: [UInt8]) {
        precondition(!offer.isEmpty && padA.count <= MSE.maxPadding && padC.count <= MSE.maxPadding
            && initialPayload.count <= MSE.maxInitialPayload)
        self.infoHash = infoHash
        self.offer = offer
        self.keys = keys
        self.padA = padA
        self.padC = padC
        self.initialPayload = initialPayload
    }

    /// Step 1: Ya and PadA.
    public func start() -> [UInt8] { keys.publicKey + padA }

    /// Feeds bytes from the peer. Throws on anything the protocol does not allow;
    /// the connection must then be closed.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(MSEError) -> MSEStep {
        try runSteps(on: bytes)
    }

    mutating func advance(_ step: inout MSEStep) throws(MSEError) -> State? {
        switch state {
        case .awaitingPublicKey:
            guard input.available >= MSE.keyLength else { return nil }
            let secret = try keys.sharedSecret(peerPublicKey: input.take(MSE.keyLength))
            let (outgoing, incoming) = MSEHashes.ciphers(secret: secret, infoHash: infoHash, initiator: true)
            step.send += stepThree(secret: secret, outgoing: outgoing)
            var expected = MSE.verificationConstant
            incoming.apply(&expected)
            return .awaitingVerification(expected: expected, outgoing: outgoing, incoming: incoming)

        case .awaitingVerification(let expected, let outgoing, let incoming):
            guard try input.synchronize(on: expected, window: MSE.vcSyncWindow, name: "ENCRYPT(VC)") else { return nil }
            return .awaitingSelection(outgoing: outgoing, incoming: incoming)

        case .awaitingSelection(let outgoing, let incoming):
            guard input.available >= 6 else { return nil }
            let fields = input.take(6, decryptingWith: incoming)
            let selected = MSECryptoMethods(rawValue: fields.bigEndian(UInt32.self, at: 0))
            guard selected == .plaintext || selected == .rc4, offer.contains(selected) else {
                throw .invalidSelection(selected: selected, offered: offer)
            }
            let padLength = Int(fields.bigEndian(UInt16.self, at: 4))
            guard padLength <= MSE.maxPadding else { throw .paddingTooLong(padLength) }
            return .awaitingPadD(length: padLength, method: selected, outgoing: outgoing, incoming: incoming)

        case .awaitingPadD(let length, let method, let outgoing, let incoming):
            guard input.available >= length else { return nil }
            _ = input.take(length, decryptingWith: incoming)
            let rc4 = method == .rc4
            let payload = rc4 ? input.take(input.available, decryptingWith: incoming) : input.takeAll()
            step.established = MSEEstablished(method: method, infoHash: infoHash, outgoing: rc4 ? outgoing : nil,
                                              incoming: rc4 ? incoming : nil, payload: payload)
            return .established

        case .established:
            return nil
        }
    }

    private func stepThree(secret: [UInt8], outgoing: RC4) -> [UInt8] {
        let req2 = MSEHashes.req2(infoHash: infoHash)
        let req3 = MSEHashes.req3(secret: secret)
        var message = MSEHashes.req1(secret: secret) + zip(req2, req3).map { $0 ^ $1 }
        var encrypted = MSE.verificationConstant
        encrypted.appendBigEndian(offer.rawValue)
        encrypted.appendBigEndian(UInt16(padC.count))
        encrypted += padC
        encrypted.appendBigEndian(UInt16(initialPayload.count))
        encrypted += initialPayload
        outgoing.apply(&encrypted)
        message += encrypted
        return message
    }
}
