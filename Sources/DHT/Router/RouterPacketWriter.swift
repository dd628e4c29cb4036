import Identity

/// Writes the router's few packet shapes straight into a send buffer, from
/// pieces prepared once (no allocation, no general bencode writer):
///
///     reply  d 2:ip <requester> 1:r d 2:id <id> [5:nodes …] [6:nodes6 …] e 1:t <t> 1:v <v> 1:y 1:r e
///     error  d 1:e l i<code>e <message> e 1:t <t> 1:v <v> 1:y 1:e e
///     ping   d 1:a d 2:id <id> e 1:q 4:ping 1:t <cookie> 1:v <v> 1:y 1:q e
///
/// Keys are in canonical order. Replies carry BEP 42's `ip`, so requesters
/// learn their external address. Nothing is signed: a router answers plain
/// nodes, and an ed25519 signature per reply would cost more than the rest
/// of the reply together.
struct RouterPacketWriter {
    /// The largest packet written: an IPv6 `ip`, 8 + 8 contacts of both families, a 32-byte `t`.
    static let maxPacketSize = 760
    private let replyBody: [UInt8]        // "1:rd2:id20:<id>"
    private let trailerStart: [UInt8]     // "e1:t"  (closes r)
    private let versionAndType: [UInt8]   // "1:v<n>:<v>1:y1:"
    private let pingStart: [UInt8]        // "d1:ad2:id20:<id>e1:q4:ping1:t"

    init(nodeID: NodeID, version: [UInt8]) {
        let id = nodeID.bytes
        replyBody = Array("1:rd2:id20:".utf8) + id
        trailerStart = Array("e1:t".utf8)
        let shortVersion = Array(version.prefix(8))
        versionAndType = Array("1:v\(shortVersion.count):".utf8) + shortVersion + Array("1:y1:".utf8)
        pingStart = Array("d1:ad2:id20:".utf8) + id + Array("e1:q4:ping1:t".utf8)
    }

    /// Starts a reply to `requester`; the caller adds nodes, then `finishReply`.
    @inline(__always)
    func startReply(_ out: inout PacketCursor, requester: NodeAddress) {
        out.literal("d2:ip")
        switch requester.ip {
        case .v4(let value):
            out.literal("6:")
            out.bigEndian(value)
        case .v6(let high, let low):
            out.literal("18:")
            out.bigEndian(high)
            out.bigEndian(low)
        }
        out.bigEndian(requester.port)
        out.bytes(replyBody)
    }

    /// `5:nodes<len>:` or `6:nodes6<len>:` for `count` contacts; the caller copies them after it.
    @inline(__always)
    func nodesKey(_ out: inout PacketCursor, family: IPAddress.Family, count: Int) {
        if family == .v4 {
            out.literal("5:nodes")
            out.length(count * 26)
        } else {
            out.literal("6:nodes6")
            out.length(count * 38)
        }
    }

    @inline(__always)
    func finishReply(_ out: inout PacketCursor, transactionID: ShortBytes) {
        out.bytes(trailerStart)
        trailer(&out, transactionID: transactionID, type: UInt8(ascii: "r"))
    }

    func error(_ out: inout PacketCursor, code: Int64, message: StaticString, transactionID: ShortBytes) {
        out.literal("d1:eli")
        out.decimal(code)
        out.byte(UInt8(ascii: "e"))
        out.length(message.utf8CodeUnitCount)
        out.literal(message)
        out.literal("e1:t")
        trailer(&out, transactionID: transactionID, type: UInt8(ascii: "e"))
    }

    func ping(_ out: inout PacketCursor, cookie: UInt64) {
        out.bytes(pingStart)
        out.literal("8:")
        out.bigEndian(cookie)
        out.bytes(versionAndType)
        out.byte(UInt8(ascii: "q"))
        out.byte(UInt8(ascii: "e"))
    }

    @inline(__always)
    private func trailer(_ out: inout PacketCursor, transactionID: ShortBytes, type: UInt8) {
        out.length(transactionID.count)
        transactionID.withUnsafeBytes { out.raw($0) }
        out.bytes(versionAndType)
        out.byte(type)
        out.byte(UInt8(ascii: "e"))
    }
}

/// A write position in a caller's buffer. Bounds are the writer's promise
/// (`RouterPacketWriter.maxPacketSize`), checked once when the buffer is taken.
struct PacketCursor {
    let start: UnsafeMutableRawPointer
    var position = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= RouterPacketWriter.maxPacketSize, "send buffers hold at least one full reply")
        start = buffer.baseAddress!
    }

    @inline(__always) var here: UnsafeMutableRawPointer { start + position }

    @inline(__always) mutating func byte(_ value: UInt8) {
        start.storeBytes(of: value, toByteOffset: position, as: UInt8.self)
        position += 1
    }

    @inline(__always) mutating func literal(_ text: StaticString) {
        (start + position).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        position += text.utf8CodeUnitCount
    }

    @inline(__always) mutating func bytes(_ array: [UInt8]) {
        array.withUnsafeBytes { raw($0) }
    }

    @inline(__always) mutating func raw(_ buffer: UnsafeRawBufferPointer) {
        guard buffer.count > 0 else { return }
        (start + position).copyMemory(from: buffer.baseAddress!, byteCount: buffer.count)
        position += buffer.count
    }

    @inline(__always) mutating func bigEndian<T: FixedWidthInteger>(_ value: T) {
        (start + position).storeBytes(of: value.bigEndian, as: T.self)
        position += MemoryLayout<T>.size
    }

    @inline(__always) mutating func advance(_ count: Int) { position += count }

    /// `<length>:` for lengths below 1,000 (every string the router writes).
    @inline(__always) mutating func length(_ value: Int) {
        let zero = UInt8(ascii: "0")
        if value >= 100 { byte(zero + UInt8(value / 100)) }
        if value >= 10 { byte(zero + UInt8(value / 10 % 10)) }
        byte(zero + UInt8(value % 10))
        byte(UInt8(ascii: ":"))
    }

    /// A KRPC error code (three digits).
    mutating func decimal(_ value: Int64) {
        let value = Int(max(0, min(999, value)))
        let zero = UInt8(ascii: "0")
        if value >= 100 { byte(zero + UInt8(value / 100)) }
        if value >= 10 { byte(zero + UInt8(value / 10 % 10)) }
        byte(zero + UInt8(value % 10))
    }
}
