import Metainfo

/// The reserved bytes of the handshake: one bit per protocol extension.
public struct ReservedBits: Hashable, Sendable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8] = [UInt8](repeating: 0, count: 8)) {
        precondition(bytes.count == 8)
        self.bytes = bytes
    }

    /// BEP 10 extension protocol: byte 5, bit 0x10.
    public var extensionProtocol: Bool {
        get { bytes[5] & 0x10 != 0 }
        set { bytes[5] = newValue ? bytes[5] | 0x10 : bytes[5] & ~0x10 }
    }

    /// BEP 5 DHT (`port` message): byte 7, bit 0x01.
    public var dht: Bool {
        get { bytes[7] & 0x01 != 0 }
        set { bytes[7] = newValue ? bytes[7] | 0x01 : bytes[7] & ~0x01 }
    }

    /// BEP 6 fast extension: byte 7, bit 0x04.
    public var fast: Bool {
        get { bytes[7] & 0x04 != 0 }
        set { bytes[7] = newValue ? bytes[7] | 0x04 : bytes[7] & ~0x04 }
    }

    /// What BitFountain announces: extension protocol, DHT and fast extension.
    public static var bitFountain: ReservedBits {
        var bits = ReservedBits()
        bits.extensionProtocol = true
        bits.dht = true
        bits.fast = true
        return bits
    }
}

/// The BEP 3 handshake: `<19>"BitTorrent protocol"<reserved 8><infohash 20><peer id 20>`.
public struct Handshake: Hashable, Sendable {
    public static let protocolName = Array("BitTorrent protocol".utf8)
    public static let length = 68

    public var reserved: ReservedBits
    public var infoHash: InfoHash
    public var peerID: PeerID

    public init(reserved: ReservedBits, infoHash: InfoHash, peerID: PeerID) {
        self.reserved = reserved
        self.infoHash = infoHash
        self.peerID = peerID
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = [19]
        out.reserveCapacity(Handshake.length)
        out += Handshake.protocolName
        out += reserved.bytes
        out += infoHash.bytes
        out += peerID.bytes
        return out
    }

    /// Decodes the 68 handshake bytes; the caller waits until it has them all.
    public init<C: Collection>(decoding bytes: C) throws(PeerWireError) where C.Element == UInt8 {
        let all = Array(bytes)
        guard all.count == Handshake.length else { throw .badHandshake("expected \(Handshake.length) bytes, got \(all.count)") }
        guard all[0] == 19, Array(all[1..<20]) == Handshake.protocolName else {
            throw .badHandshake("not the BitTorrent protocol")
        }
        reserved = ReservedBits(bytes: Array(all[20..<28]))
        infoHash = InfoHash(bytes: all[28..<48])!
        peerID = PeerID(bytes: Array(all[48..<68]))!
    }
}
