import Bencode
import Identity

/// Writes KRPC messages by hand, in canonical key order, into a buffer that is
/// reused from one message to the next (no allocation once warm).
///
/// When given an authenticator it adds BitFountain's `k` and `sig` keys
/// (DESIGN §3): the signature covers `"bf-krpc-1"`, `t`, `y`, `q` and the
/// `a`/`r` dictionary bytes exactly as written here.
public struct KRPCWriter: Sendable {
    /// The message last written.
    public private(set) var buffer: [UInt8] = []
    private var payload: [UInt8] = []
    /// Our `v`: the client code of our peer ID ("FN", see PeerID.clientPrefix) and a 2-byte version.
    public var version: [UInt8]

    public static let defaultVersion: [UInt8] = [UInt8(ascii: "F"), UInt8(ascii: "N"), 0, 1]

    public init(version: [UInt8] = KRPCWriter.defaultVersion) {
        self.version = version
        buffer.reserveCapacity(1_024)
        payload.reserveCapacity(1_024)
    }

    // MARK: Queries

    /// `{a: …, [k], q, [ro], [sig], t, v, y: "q"}`.
    public mutating func writeQuery(_ query: KRPCQuery, transactionID: ShortBytes, readOnly: Bool,
                                    signer: (any NodeAuthenticator)?) {
        buffer.removeAll(keepingCapacity: true)
        let method = query.methodLiteral
        buffer.append(UInt8(ascii: "d"))
        key("a")
        let bodyStart = buffer.count
        writeArguments(query)
        let body = bodyStart..<buffer.count
        if let signer { key("k"); string(signer.publicKey.bytes) }
        key("q"); method.withUTF8Buffer { string(UnsafeRawBufferPointer($0)) }
        if readOnly { key("ro"); integer(1) }
        if let signer {
            let signature = method.withUTF8Buffer {
                sign(signer, t: transactionID, type: UInt8(ascii: "q"), method: UnsafeRawBufferPointer($0), body: body)
            }
            key("sig"); string(signature)
        }
        trailer(transactionID, type: UInt8(ascii: "q"))
    }

    private mutating func writeArguments(_ query: KRPCQuery) {
        buffer.append(UInt8(ascii: "d"))
        switch query {
        case .ping(let id):
            key("id"); nodeID(id)
        case .findNode(let id, let target, let want):
            key("id"); nodeID(id)
            key("target"); nodeID(target)
            writeWant(want)
        case .getPeers(let id, let infoHash, let want):
            key("id"); nodeID(id)
            key("info_hash"); nodeID(infoHash)
            writeWant(want)
        case .announcePeer(let id, let infoHash, let port, let token):
            key("id"); nodeID(id)
            key("implied_port"); integer(port == nil ? 1 : 0)
            key("info_hash"); nodeID(infoHash)
            // BEP 5 requires `port` even with implied_port; 1 is ignored by the receiver then.
            key("port"); integer(Int64(port ?? 1))
            key("token"); token.withUnsafeBytes { string($0) }
        case .sampleInfohashes(let id, let target, let want):
            key("id"); nodeID(id)
            key("target"); nodeID(target)
            writeWant(want)
        case .unknown(_, let id, let target, let want):
            key("id"); nodeID(id)
            if let target { key("target"); nodeID(target) }
            writeWant(want)
        }
        buffer.append(UInt8(ascii: "e"))
    }

    private mutating func writeWant(_ want: WantedFamilies) {
        guard !want.isEmpty else { return }
        key("want")
        buffer.append(UInt8(ascii: "l"))
        if want.contains(.v4) { string(Array("n4".utf8)) }
        if want.contains(.v6) { string(Array("n6".utf8)) }
        buffer.append(UInt8(ascii: "e"))
    }

    // MARK: Responses

    /// `{[ip], [k], r: …, [sig], t, v, y: "r"}`. `requester` becomes BEP 42's `ip`.
    public mutating func writeResponse(_ response: KRPCResponse, transactionID: ShortBytes,
                                       requester: NodeAddress?, signer: (any NodeAuthenticator)?) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(UInt8(ascii: "d"))
        if let requester {
            key("ip")
            BencodeLengths.appendLength(NodeAddress.compactLength(requester.family), to: &buffer)
            requester.appendCompact(to: &buffer)
        }
        if let signer { key("k"); string(signer.publicKey.bytes) }
        key("r")
        let bodyStart = buffer.count
        writeResponseBody(response)
        let body = bodyStart..<buffer.count
        if let signer {
            let signature = sign(signer, t: transactionID, type: UInt8(ascii: "r"),
                                 method: UnsafeRawBufferPointer(start: nil, count: 0), body: body)
            key("sig"); string(signature)
        }
        trailer(transactionID, type: UInt8(ascii: "r"))
    }

    private mutating func writeResponseBody(_ response: KRPCResponse) {
        buffer.append(UInt8(ascii: "d"))
        key("id"); nodeID(response.id)
        if let interval = response.interval { key("interval"); integer(interval) }
        if !response.nodes.isEmpty { key("nodes"); contacts(response.nodes, family: .v4) }
        if !response.nodes6.isEmpty { key("nodes6"); contacts(response.nodes6, family: .v6) }
        if let num = response.num { key("num"); integer(num) }
        if response.interval != nil || !response.samples.isEmpty {
            key("samples")
            BencodeLengths.appendLength(response.samples.count * 20, to: &buffer)
            for sample in response.samples { sample.append(to: &buffer) }
        }
        if let token = response.token { key("token"); token.withUnsafeBytes { string($0) } }
        if !response.values.isEmpty {
            key("values")
            buffer.append(UInt8(ascii: "l"))
            for value in response.values {
                BencodeLengths.appendLength(NodeAddress.compactLength(value.family), to: &buffer)
                value.appendCompact(to: &buffer)
            }
            buffer.append(UInt8(ascii: "e"))
        }
        buffer.append(UInt8(ascii: "e"))
    }

    private mutating func contacts(_ list: [NodeContact], family: IPAddress.Family) {
        BencodeLengths.appendLength(list.count * NodeContact.compactLength(family), to: &buffer)
        for contact in list { contact.appendCompact(to: &buffer) }
    }

    // MARK: Errors

    /// `{e: [code, message], t, v, y: "e"}`. Errors are never signed.
    public mutating func writeError(_ error: KRPCError, transactionID: ShortBytes) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(UInt8(ascii: "d"))
        key("e")
        buffer.append(UInt8(ascii: "l"))
        integer(error.code)
        string(Array(error.message.utf8.prefix(100)))
        buffer.append(UInt8(ascii: "e"))
        trailer(transactionID, type: UInt8(ascii: "e"))
    }

    // MARK: Pieces

    private mutating func trailer(_ transactionID: ShortBytes, type: UInt8) {
        key("t"); transactionID.withUnsafeBytes { string($0) }
        key("v"); string(version)
        key("y")
        buffer.append(UInt8(ascii: "1"))
        buffer.append(UInt8(ascii: ":"))
        buffer.append(type)
        buffer.append(UInt8(ascii: "e"))
    }

    private mutating func sign(_ signer: any NodeAuthenticator, t: ShortBytes, type: UInt8, method: UnsafeRawBufferPointer,
                               body: Range<Int>) -> [UInt8] {
        payload.removeAll(keepingCapacity: true)
        buffer.withUnsafeBytes { raw in
            t.withUnsafeBytes { tBytes in
                KRPCSignature.appendPayload(transactionID: tBytes, type: type, method: method,
                                            body: UnsafeRawBufferPointer(rebasing: raw[body]), to: &payload)
            }
        }
        return payload.withUnsafeBytes { signer.sign($0) }
    }

    private mutating func key(_ name: StaticString) {
        BencodeLengths.appendLength(name.utf8CodeUnitCount, to: &buffer)
        buffer.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    private mutating func string(_ bytes: [UInt8]) {
        BencodeLengths.appendLength(bytes.count, to: &buffer)
        buffer.append(contentsOf: bytes)
    }

    private mutating func string(_ bytes: UnsafeRawBufferPointer) {
        BencodeLengths.appendLength(bytes.count, to: &buffer)
        buffer.append(contentsOf: bytes)
    }

    private mutating func nodeID(_ id: NodeID) {
        buffer.append(UInt8(ascii: "2"))
        buffer.append(UInt8(ascii: "0"))
        buffer.append(UInt8(ascii: ":"))
        id.append(to: &buffer)
    }

    private mutating func integer(_ value: Int64) {
        buffer.append(UInt8(ascii: "i"))
        appendDecimal(value, to: &buffer)
        buffer.append(UInt8(ascii: "e"))
    }
}

enum BencodeLengths {
    /// `<length>:` for a byte string (KRPC lengths are short: fast path below 1,000).
    static func appendLength(_ length: Int, to out: inout [UInt8]) {
        let zero = UInt8(ascii: "0")
        if length < 10 {
            out.append(zero + UInt8(length))
        } else if length < 100 {
            out.append(zero + UInt8(length / 10))
            out.append(zero + UInt8(length % 10))
        } else if length < 1_000 {
            out.append(zero + UInt8(length / 100))
            out.append(zero + UInt8(length / 10 % 10))
            out.append(zero + UInt8(length % 10))
        } else {
            appendDecimal(Int64(length), to: &out)
        }
        out.append(UInt8(ascii: ":"))
    }
}
