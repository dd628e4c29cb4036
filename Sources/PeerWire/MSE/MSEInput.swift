import Metainfo

/// The bytes an MSE handshake has received and not yet consumed, with the
/// big-endian field reads and the pattern search both sides need.
struct MSEInput {
    private var bytes: [UInt8] = []
    private var cursor = 0

    var available: Int { bytes.count - cursor }

    mutating func append(_ more: some Collection<UInt8>) {
        if cursor > 0 {
            bytes.removeFirst(cursor)
            cursor = 0
        }
        bytes.append(contentsOf: more)
    }

    /// Takes the next `count` bytes (the caller checked `available`).
    mutating func take(_ count: Int) -> [UInt8] {
        defer { cursor += count }
        return Array(bytes[cursor..<cursor + count])
    }

    /// Takes the next `count` bytes and decrypts them with `cipher`.
    mutating func take(_ count: Int, decryptingWith cipher: RC4) -> [UInt8] {
        var field = take(count)
        cipher.apply(&field)
        return field
    }

    /// Takes everything left.
    mutating func takeAll() -> [UInt8] { take(available) }

    /// Looks for `pattern` starting within the next `window − pattern.count + 1`
    /// bytes (what may precede it is padding). Found: consumes through it and
    /// returns true. Not found but more bytes could still bring it: false.
    /// Not found and the window is full: throws `noSynchronization`.
    mutating func synchronize(on pattern: [UInt8], window: Int, name: String) throws(MSEError) -> Bool {
        let lastStart = window - pattern.count
        let searchable = min(lastStart, available - pattern.count)
        if searchable >= 0 {
            for start in cursor...(cursor + searchable) where bytes[start] == pattern[0] {
                if bytes[start..<start + pattern.count].elementsEqual(pattern) {
                    cursor = start + pattern.count
                    return true
                }
            }
        }
        if available >= window { throw .noSynchronization(pattern: name, window: window) }
        return false
    }
}

extension Array where Element == UInt8 {
    /// A big-endian unsigned field.
    func bigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        for index in offset..<offset + MemoryLayout<T>.size { value = value << 8 | T(self[index]) }
        return value
    }

    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        for shift in stride(from: (MemoryLayout<T>.size - 1) * 8, through: 0, by: -8) {
            append(UInt8(truncatingIfNeeded: value >> T(shift)))
        }
    }
}

/// What one call into an MSE handshake produced.
public struct MSEStep {
    /// Bytes to write to the peer, in order.
    public var send: [UInt8] = []
    /// Set once the handshake is over: the stream is ready for the BitTorrent protocol.
    public var established: MSEEstablished?
}

/// The outcome of a completed MSE handshake.
public struct MSEEstablished {
    /// `.plaintext` or `.rc4`: how the rest of the connection travels.
    public let method: MSECryptoMethods
    /// The torrent the handshake named (SKEY).
    public let infoHash: InfoHash
    /// The RC4 streams for the rest of the connection when `method` is `.rc4`;
    /// `outgoing` encrypts what we send, `incoming` decrypts what we receive.
    public let outgoing: RC4?
    public let incoming: RC4?
    /// What the peer already sent past the handshake, decrypted: IA (from an
    /// initiator) then any payload that came with it. The BitTorrent handshake starts here.
    public let payload: [UInt8]
}
