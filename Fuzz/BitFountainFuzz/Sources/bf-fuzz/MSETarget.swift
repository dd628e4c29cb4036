import Metainfo
import PeerWire

/// MSE/PE (message stream encryption): both sides of the handshake fed bytes
/// from the fuzzer.
///
/// The first byte picks the scenario. Raw bytes alone cannot get far: past
/// Ya/Yb every step is keyed by the Diffie-Hellman secret. So two scenarios
/// run a real handshake between our initiator and responder (fixed keys,
/// policies, padding, IA and delivery chunk size from the input) and let the
/// fuzzer XOR bytes of one direction's stream. RC4 is a stream cipher: a XOR
/// on the ciphertext is the same XOR on the plaintext, so the fuzzer can set
/// crypto_provide, crypto_select and the pad and IA lengths to any value it
/// likes and reach every check behind the hashes. The other two scenarios feed
/// raw bytes to a lone responder or initiator.
///
/// Invariants: an untouched handshake completes on both sides with the method
/// the policies imply (or fails with no common method), IA arrives intact and
/// the RC4 streams pair up; whatever is touched, a side that completes names
/// our torrent and a method its policy allows, never returns more payload than
/// it was given, and what each side sends stays within the protocol's bounds.
enum MSETarget {
    static let infoHash = InfoHash(bytes: (0..<20).map { UInt8($0 * 7 & 0xFF) })!
    // Fixed keys: one modular exponentiation each, once per process.
    static let initiatorKeys = MSEKeyExchange(privateKey: (0..<20).map { UInt8($0 + 1) })
    static let responderKeys = MSEKeyExchange(privateKey: (0..<20).map { UInt8(200 - $0) })

    /// Most bytes each side may send in the whole handshake.
    static let responderSendBound = MSE.keyLength + MSE.maxPadding + 8 + 4 + 2 + MSE.maxPadding
    static let initiatorSendBound = MSE.keyLength + MSE.maxPadding + 20 + 20 + 8 + 4 + 2 + MSE.maxPadding + 2 + MSE.maxInitialPayload

    @Sendable static func run(_ bytes: [UInt8]) {
        guard bytes.count >= 8 else { return }
        let flags = bytes[0]
        switch flags >> 4 & 3 {
        case 0, 1: handshake(bytes)
        case 2: rawResponder(bytes)
        default: rawInitiator(bytes)
        }
    }

    static func methods(_ bits: UInt8) -> MSECryptoMethods {
        switch bits & 3 {
        case 1: .plaintext
        case 2: .rc4
        default: [.plaintext, .rc4]
        }
    }

    static func lookup(_ req2: [UInt8]) -> InfoHash? { req2 == MSEHashes.req2(infoHash: infoHash) ? infoHash : nil }

    /// One side of a connection: its machine, what it has sent, got, and how it ended.
    struct Side<Machine> {
        var machine: Machine
        var sent = 0
        var received = 0
        var established: MSEEstablished?
        var failed: MSEError?
        var open: Bool { established == nil && failed == nil }
    }

    static func handshake(_ bytes: [UInt8]) {
        let flags = bytes[0]
        let offer = methods(flags), accept = methods(flags >> 2)
        let pads = (1...4).map { [UInt8](repeating: UInt8($0), count: Int(bytes[$0]) * 2) }
        let lengthField = Int(bytes[5]) << 8 | Int(bytes[6])
        let iaLength = flags & 0x40 != 0 ? lengthField % (MSE.maxInitialPayload + 1) : lengthField % 1024
        let initialPayload = (0..<iaLength).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let chunk = bytes[7] == 0 ? Int.max : Int(bytes[7])
        let tamperResponderBound = flags >> 4 & 1 == 0  // else: tamper with what the responder sends
        var tampers: [Int: UInt8] = [:]
        var rest = bytes[8...]
        while rest.count >= 3 {
            let offset = Int(rest[rest.startIndex]) << 8 | Int(rest[rest.startIndex + 1])
            tampers[offset, default: 0] ^= rest[rest.startIndex + 2]
            rest = rest.dropFirst(3)
        }
        tampers = tampers.filter { $0.value != 0 }

        var a = Side(machine: MSEInitiator(infoHash: infoHash, offer: offer, keys: initiatorKeys, padA: pads[0],
                                           padC: pads[2], initialPayload: initialPayload))
        var b = Side(machine: MSEResponder(accept: accept, keys: responderKeys, padB: pads[1], padD: pads[3], lookup: lookup))
        var toB = a.machine.start(), toA: [UInt8] = []
        a.sent = toB.count
        // Deliver a chunk at a time, alternating, until neither side has anything left to read.
        while (a.open && !toA.isEmpty) || (b.open && !toB.isEmpty) {
            if b.open, !toB.isEmpty {
                var piece = Array(toB.prefix(chunk))
                toB.removeFirst(piece.count)
                if tamperResponderBound { apply(tampers, to: &piece, at: b.received) }
                b.received += piece.count
                do {
                    let step = try b.machine.receive(piece)
                    toA += step.send
                    b.sent += step.send.count
                    if let done = step.established { b.established = done }
                } catch {
                    b.failed = error
                }
            } else {
                toB = []
            }
            if a.open, !toA.isEmpty {
                var piece = Array(toA.prefix(chunk))
                toA.removeFirst(piece.count)
                if !tamperResponderBound { apply(tampers, to: &piece, at: a.received) }
                a.received += piece.count
                do {
                    let step = try a.machine.receive(piece)
                    toB += step.send
                    a.sent += step.send.count
                    if let done = step.established { a.established = done }
                } catch {
                    a.failed = error
                }
            } else {
                toA = []
            }
        }
        require(a.sent <= initiatorSendBound && b.sent <= responderSendBound, "sent \(a.sent) and \(b.sent) bytes")
        if let done = b.established {
            require(done.infoHash == infoHash && accept.contains(done.method) && (done.method == .plaintext || done.method == .rc4),
                    "the responder completed with \(done.method) for \(done.infoHash)")
            require(done.payload.count <= b.received, "the responder returned \(done.payload.count) bytes of \(b.received)")
            require((done.method == .rc4) == (done.incoming != nil && done.outgoing != nil), "ciphers do not match \(done.method)")
        }
        if let done = a.established {
            require(done.infoHash == infoHash && offer.contains(done.method) && (done.method == .plaintext || done.method == .rc4),
                    "the initiator completed with \(done.method)")
            require(done.payload.count <= a.received, "the initiator returned \(done.payload.count) bytes of \(a.received)")
        }
        guard tampers.isEmpty else { return }

        // Untouched: the outcome is fixed by the policies alone.
        let common = offer.intersection(accept)
        guard !common.isEmpty else {
            require(b.failed == .noCommonMethod(offered: offer, accepted: accept) && a.established == nil,
                    "no common method, yet \(String(describing: b.failed)) / \(String(describing: a.established?.method))")
            return
        }
        guard let atA = a.established, let atB = b.established else {
            require(false, "an honest handshake did not complete: \(String(describing: a.failed)), \(String(describing: b.failed))")
            return
        }
        let expected: MSECryptoMethods = common.contains(.plaintext) ? .plaintext : .rc4
        require(atA.method == expected && atB.method == expected, "methods \(atA.method) and \(atB.method), not \(expected)")
        require(atB.payload == initialPayload, "IA arrived as \(atB.payload.count) other bytes")
        require(atA.payload.isEmpty, "the initiator got \(atA.payload.count) payload bytes from nowhere")
        if expected == .rc4, let aOut = atA.outgoing, let aIn = atA.incoming, let bOut = atB.outgoing, let bIn = atB.incoming {
            var message: [UInt8] = [19, 66, 84, 0, 255]
            aOut.apply(&message)
            bIn.apply(&message)
            require(message == [19, 66, 84, 0, 255], "A→B RC4 streams do not pair")
            bOut.apply(&message)
            aIn.apply(&message)
            require(message == [19, 66, 84, 0, 255], "B→A RC4 streams do not pair")
        } else {
            require(expected == .plaintext && atA.outgoing == nil && atB.incoming == nil, "plaintext with ciphers")
        }
    }

    static func apply(_ tampers: [Int: UInt8], to piece: inout [UInt8], at start: Int) {
        guard !tampers.isEmpty else { return }
        for index in piece.indices where tampers[start + index] != nil { piece[index] ^= tampers[start + index]! }
    }

    /// Raw bytes to a lone responder, in chunks the second byte sizes. Without
    /// the DH secret no input can complete a handshake; what it sends is Yb and PadB at most.
    static func rawResponder(_ bytes: [UInt8]) {
        var responder = MSEResponder(accept: methods(bytes[0]), keys: responderKeys, padB: [UInt8](repeating: 1, count: Int(bytes[2]) * 2),
                                     padD: [], lookup: lookup)
        var sent = 0
        for piece in chunks(bytes, size: Int(bytes[1])) {
            guard let step = try? responder.receive(piece) else { return }
            sent += step.send.count
            require(step.established == nil, "a responder completed on raw bytes")
            require(sent <= MSE.keyLength + MSE.maxPadding, "the responder sent \(sent) bytes")
        }
    }

    /// Raw bytes to a lone initiator, after it sent Ya: it answers with step 3
    /// at most once and never completes.
    static func rawInitiator(_ bytes: [UInt8]) {
        var initiator = MSEInitiator(infoHash: infoHash, offer: methods(bytes[0]), keys: initiatorKeys, padA: [],
                                     padC: [UInt8](repeating: 2, count: Int(bytes[2]) * 2), initialPayload: [UInt8](repeating: 3, count: Int(bytes[3])))
        _ = initiator.start()
        var sent = 0
        for piece in chunks(bytes, size: Int(bytes[1])) {
            guard let step = try? initiator.receive(piece) else { return }
            sent += step.send.count
            require(step.established == nil, "an initiator completed on raw bytes")
            require(sent <= initiatorSendBound, "the initiator sent \(sent) bytes")
        }
    }

    /// The input past its 8-byte header in pieces of `size` bytes (0: all at once).
    static func chunks(_ bytes: [UInt8], size: Int) -> [ArraySlice<UInt8>] {
        let body = bytes[8...]
        let step = size == 0 ? max(1, body.count) : size
        return stride(from: body.startIndex, to: body.endIndex, by: step).map { body[$0..<min($0 + step, body.endIndex)] }
    }
}
