import Identity

/// Why a packet is not a usable KRPC message. When the packet was a query
/// whose transaction ID could be read, `transactionID` lets the node answer
/// with error 203 instead of staying silent. The reason is a static string, so
/// rejecting a malformed packet allocates nothing (routers see floods of them).
public struct KRPCDecodeError: Error, Sendable, CustomStringConvertible {
    public let reason: StaticString
    public let transactionID: ShortBytes?
    public let isQuery: Bool

    public var description: String { "malformed KRPC message: \(reason)" }
}

/// Turns a datagram into a `KRPCMessage` in one pass over its bytes.
///
/// Lenient where BEP 5 asks for it (unknown keys are ignored, key order is not
/// enforced), strict about types and lengths of the fields it uses.
public enum KRPCDecoder {
    /// Datagrams larger than this are dropped unread (a KRPC message fits in 1,024).
    public static let maxPacketSize = 1_500

    public static func decode(_ bytes: [UInt8]) throws(KRPCDecodeError) -> KRPCMessage {
        let result: Result<KRPCMessage, KRPCDecodeError> = bytes.withUnsafeBytes { buffer in
            do throws(KRPCDecodeError) { return .success(try decode(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func decode(_ buffer: UnsafeRawBufferPointer) throws(KRPCDecodeError) -> KRPCMessage {
        var fields = TopLevel()
        var scanner = BencodeScanner(buffer)
        do throws(BencodeScanner.Malformed) {
            guard buffer.count <= maxPacketSize else { throw BencodeScanner.Malformed(reason: "packet too large") }
            try fields.read(&scanner)
        } catch {
            throw KRPCDecodeError(reason: error.reason, transactionID: fields.transactionID(buffer),
                                  isQuery: fields.type == UInt8(ascii: "q"))
        }
        return try fields.message(buffer)
    }
}

/// The top-level dictionary, collected before the message is built (keys may
/// come in any order).
private struct TopLevel {
    var t: Range<Int>?
    var type: UInt8?
    var method: Range<Int>?
    var body: Range<Int>?
    var args = Arguments()
    var errorCode: Int64?
    var errorMessage: Range<Int>?
    var version: Range<Int>?
    var ip: Range<Int>?
    var readOnly = false
    var key: Range<Int>?
    var signature: Range<Int>?

    mutating func read(_ scanner: inout BencodeScanner) throws(BencodeScanner.Malformed) {
        try scanner.expect(UInt8(ascii: "d"))
        while try scanner.hasNext() {
            let name = try scanner.string()
            if scanner.matches(name, "t") {
                t = try scanner.string()
            } else if scanner.matches(name, "y") {
                let range = try scanner.string()
                guard range.count == 1 else { throw .init(reason: "y must be one byte") }
                type = scanner.buffer[range.lowerBound]
            } else if scanner.matches(name, "q") {
                method = try scanner.string()
            } else if scanner.matches(name, "a") || scanner.matches(name, "r") {
                guard body == nil else { throw .init(reason: "both a and r") }
                let start = scanner.position
                try args.read(&scanner)
                body = start..<scanner.position
            } else if scanner.matches(name, "e") {
                try readError(&scanner)
            } else if scanner.matches(name, "v") {
                version = try scanner.string()
            } else if scanner.matches(name, "ip") {
                ip = try scanner.string()
            } else if scanner.matches(name, "ro") {
                readOnly = try scanner.integer() == 1
            } else if scanner.matches(name, "k") {
                key = try scanner.string()
            } else if scanner.matches(name, "sig") {
                signature = try scanner.string()
            } else {
                try scanner.skipValue()
            }
        }
        guard scanner.isAtEnd else { throw .init(reason: "trailing data") }
    }

    /// `e`: `[code, message]`; anything else in the list is ignored.
    mutating func readError(_ scanner: inout BencodeScanner) throws(BencodeScanner.Malformed) {
        try scanner.expect(UInt8(ascii: "l"))
        if try scanner.hasNext() {
            errorCode = try scanner.integer()
            if try scanner.hasNext() {
                errorMessage = try scanner.string()
                while try scanner.hasNext() { try scanner.skipValue() }
            }
        }
    }

    func transactionID(_ buffer: UnsafeRawBufferPointer) -> ShortBytes? {
        guard let t else { return nil }
        return ShortBytes(buffer, t)
    }

    func message(_ buffer: UnsafeRawBufferPointer) throws(KRPCDecodeError) -> KRPCMessage {
        let isQuery = type == UInt8(ascii: "q")
        func fail(_ reason: StaticString) -> KRPCDecodeError {
            KRPCDecodeError(reason: reason, transactionID: transactionID(buffer), isQuery: isQuery)
        }
        guard let t else { throw fail("missing t") }
        guard let transactionID = ShortBytes(buffer, t) else { throw fail("t longer than 32 bytes") }
        var message = KRPCMessage(transactionID: transactionID, body: .error(KRPCError(code: 0, message: "")))
        if let version { message.version = ShortBytes(buffer, version) }
        message.readOnly = readOnly
        if let ip { message.requesterAddress = NodeAddress(compact: buffer, at: ip.lowerBound, length: ip.count) }

        switch type {
        case UInt8(ascii: "q"):
            guard let method else { throw fail("query without q") }
            guard body != nil else { throw fail("query without a") }
            message.body = .query(try query(method: method, buffer, fail))
        case UInt8(ascii: "r"):
            guard body != nil else { throw fail("response without r") }
            guard let id = args.id else { throw fail("response without a 20-byte id") }
            message.body = .response(args.response(id: id, buffer))
        case UInt8(ascii: "e"):
            let text = errorMessage.map { String(decoding: UnsafeRawBufferPointer(rebasing: buffer[$0]), as: UTF8.self) } ?? ""
            message.body = .error(KRPCError(code: errorCode ?? 0, message: text))
        default:
            throw fail("y is not q, r or e")
        }

        if let key, let signature, let body, let messageType = type, messageType != UInt8(ascii: "e") {
            message.authentication = KRPCAuthentication(key: key, signature: signature, body: body,
                                                        method: method ?? body.lowerBound..<body.lowerBound,
                                                        transactionID: t, type: messageType)
        }
        return message
    }

    private func query(method: Range<Int>, _ buffer: UnsafeRawBufferPointer,
                       _ fail: (StaticString) -> KRPCDecodeError) throws(KRPCDecodeError) -> KRPCQuery {
        let scanner = BencodeScanner(buffer)
        guard let id = args.id else { throw fail("query without a 20-byte id") }
        if args.badLength { throw fail("target or info_hash is not 20 bytes") }
        if scanner.matches(method, "ping") { return .ping(id: id) }
        if scanner.matches(method, "find_node") {
            guard let target = args.target else { throw fail("find_node without target") }
            return .findNode(id: id, target: target, want: args.want)
        }
        if scanner.matches(method, "get_peers") {
            guard let infoHash = args.infoHash else { throw fail("get_peers without info_hash") }
            return .getPeers(id: id, infoHash: infoHash, want: args.want)
        }
        if scanner.matches(method, "announce_peer") {
            guard let infoHash = args.infoHash else { throw fail("announce_peer without info_hash") }
            guard let token = args.token else { throw fail("announce_peer without a token") }
            if args.impliedPort { return .announcePeer(id: id, infoHash: infoHash, port: nil, token: token) }
            guard let port = args.port, port > 0, port <= 65_535 else { throw fail("announce_peer port must be 1-65535") }
            return .announcePeer(id: id, infoHash: infoHash, port: UInt16(port), token: token)
        }
        if scanner.matches(method, "get") {
            guard let target = args.target else { throw fail("get without target") }
            return .get(id: id, target: target, sequence: args.sequence, want: args.want)
        }
        if scanner.matches(method, "put") {
            guard let token = args.token else { throw fail("put without a token") }
            guard let value = args.value else { throw fail("put without v") }
            let bytes = { (range: Range<Int>) in Array(UnsafeRawBufferPointer(rebasing: buffer[range])) }
            if args.key != nil || args.signature != nil {
                guard args.key != nil, args.signature != nil, args.sequence != nil else {
                    throw fail("mutable put needs k, seq and sig")
                }
            }
            return .put(id: id, request: PutRequest(token: token, value: bytes(value), publicKey: args.key.map(bytes),
                                                    salt: args.salt.map(bytes) ?? [], sequence: args.sequence,
                                                    signature: args.signature.map(bytes), cas: args.cas))
        }
        if scanner.matches(method, "sample_infohashes") {
            guard let target = args.target else { throw fail("sample_infohashes without target") }
            return .sampleInfohashes(id: id, target: target, want: args.want)
        }
        guard let name = ShortBytes(buffer, method) else { throw fail("method name longer than 32 bytes") }
        return .unknown(method: name, id: id, target: args.target ?? args.infoHash, want: args.want)
    }
}

/// The fields of an `a` or `r` dictionary that any message of ours uses.
private struct Arguments {
    var id: NodeID?
    var target: NodeID?
    var infoHash: NodeID?
    var badLength = false
    var token: ShortBytes?
    var port: Int64?
    var impliedPort = false
    var want: WantedFamilies = []
    var nodes: [NodeContact] = []
    var nodes6: [NodeContact] = []
    var values: [NodeAddress] = []
    var samples: [NodeID] = []
    var interval: Int64?
    var num: Int64?
    // BEP 44 (byte ranges in the packet; copied only when the message is built).
    var value: Range<Int>?
    var key: Range<Int>?
    var signature: Range<Int>?
    var salt: Range<Int>?
    var sequence: Int64?
    var cas: Int64?

    /// Bounds what one hostile list can make us store.
    static let maxValues = 200

    mutating func read(_ scanner: inout BencodeScanner) throws(BencodeScanner.Malformed) {
        try scanner.expect(UInt8(ascii: "d"))
        while try scanner.hasNext() {
            let name = try scanner.string()
            if scanner.matches(name, "id") {
                id = try nodeID(&scanner)
            } else if scanner.matches(name, "target") {
                target = try nodeID(&scanner)
                if target == nil { badLength = true }
            } else if scanner.matches(name, "info_hash") {
                infoHash = try nodeID(&scanner)
                if infoHash == nil { badLength = true }
            } else if scanner.matches(name, "token") {
                token = ShortBytes(scanner.buffer, try scanner.string())
            } else if scanner.matches(name, "port") {
                port = try scanner.integer()
            } else if scanner.matches(name, "implied_port") {
                impliedPort = try scanner.integer() != 0
            } else if scanner.matches(name, "want") {
                try readWant(&scanner)
            } else if scanner.matches(name, "nodes") {
                nodes = contacts(scanner.buffer, try scanner.string(), family: .v4)
            } else if scanner.matches(name, "nodes6") {
                nodes6 = contacts(scanner.buffer, try scanner.string(), family: .v6)
            } else if scanner.matches(name, "values") {
                try readValues(&scanner)
            } else if scanner.matches(name, "samples") {
                let range = try scanner.string()
                samples = stride(from: range.lowerBound, to: range.upperBound - 19, by: 20).map {
                    NodeID(unsafeBytes: scanner.buffer, at: $0)
                }
            } else if scanner.matches(name, "interval") {
                interval = try scanner.integer()
            } else if scanner.matches(name, "num") {
                num = try scanner.integer()
            } else if scanner.matches(name, "v") {
                let start = scanner.position
                try scanner.skipValue()
                value = start..<scanner.position
            } else if scanner.matches(name, "k") {
                key = try scanner.string()
            } else if scanner.matches(name, "sig") {
                signature = try scanner.string()
            } else if scanner.matches(name, "salt") {
                salt = try scanner.string()
            } else if scanner.matches(name, "seq") {
                sequence = try scanner.integer()
            } else if scanner.matches(name, "cas") {
                cas = try scanner.integer()
            } else {
                try scanner.skipValue()
            }
        }
    }

    /// A 20-byte string as an ID; nil for other lengths. Other types throw.
    private func nodeID(_ scanner: inout BencodeScanner) throws(BencodeScanner.Malformed) -> NodeID? {
        let range = try scanner.string()
        guard range.count == 20 else { return nil }
        return NodeID(unsafeBytes: scanner.buffer, at: range.lowerBound)
    }

    private mutating func readWant(_ scanner: inout BencodeScanner) throws(BencodeScanner.Malformed) {
        try scanner.expect(UInt8(ascii: "l"))
        while try scanner.hasNext() {
            let range = try scanner.string()
            if scanner.matches(range, "n4") { want.insert(.v4) }
            if scanner.matches(range, "n6") { want.insert(.v6) }
        }
    }

    private mutating func readValues(_ scanner: inout BencodeScanner) throws(BencodeScanner.Malformed) {
        try scanner.expect(UInt8(ascii: "l"))
        while try scanner.hasNext() {
            let range = try scanner.string()
            guard values.count < Arguments.maxValues,
                  let address = NodeAddress(compact: scanner.buffer, at: range.lowerBound, length: range.count),
                  address.port != 0 else { continue }
            values.append(address)
        }
    }

    /// Compact node infos; a trailing partial entry is ignored.
    private func contacts(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, family: IPAddress.Family) -> [NodeContact] {
        let size = NodeContact.compactLength(family)
        let count = range.count / size
        guard count > 0 else { return [] }
        var out: [NodeContact] = []
        out.reserveCapacity(count)
        for index in 0..<count {
            let offset = range.lowerBound + index * size
            guard let address = NodeAddress(compact: buffer, at: offset + 20, length: size - 20) else { continue }
            out.append(NodeContact(id: NodeID(unsafeBytes: buffer, at: offset), address: address))
        }
        return out
    }

    func response(id: NodeID, _ buffer: UnsafeRawBufferPointer) -> KRPCResponse {
        var response = KRPCResponse(id: id)
        let bytes = { (range: Range<Int>) in Array(UnsafeRawBufferPointer(rebasing: buffer[range])) }
        response.value = value.map(bytes)
        response.itemKey = key.map(bytes)
        response.itemSignature = signature.map(bytes)
        response.itemSequence = sequence
        response.nodes = nodes
        response.nodes6 = nodes6
        response.values = values
        response.token = token
        response.samples = samples
        response.interval = interval
        response.num = num
        return response
    }
}
