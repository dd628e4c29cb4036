/// A 20-byte BitTorrent peer ID. Ours follow the Azureus style that other
/// clients recognise: `-FN0001-` followed by 12 random bytes. "FN" (fountain)
/// is in no client table we know of (libtorrent's identify_client.cpp,
/// Transmission's clients.cc); "BF", used before, is Bitflu's.
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 20
    public static let clientPrefix = Array("-FN0001-".utf8)

    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == PeerID.byteCount else { return nil }
        self.bytes = bytes
    }

    /// A fresh ID for this process: the client prefix, then random bytes.
    public static func generate<R: RandomNumberGenerator>(using generator: inout R) -> PeerID {
        var bytes = clientPrefix
        while bytes.count < byteCount { bytes.append(UInt8.random(in: 0...255, using: &generator)) }
        return PeerID(bytes: bytes)!
    }

    public static func generate() -> PeerID {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    /// The client tag (`-FN0001-`, `-LT2080-`…) when the ID has one, else hex.
    public var description: String {
        if bytes[0] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
           let tag = String(validating: bytes[0..<8], as: UTF8.self) {
            return tag
        }
        return bytes.prefix(8).map { String($0, radix: 16) }.joined()
    }
}
