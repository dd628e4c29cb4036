/// A BEP 46 feed link, `magnet:?xs=urn:btpk:<public key hex>&s=<salt hex>`:
/// it names a publisher's ed25519 key (and optional salt) instead of one
/// torrent, and resolves through a BEP 44 mutable item to the publisher's
/// latest infohash.
public struct FeedLink: Hashable, Sendable, CustomStringConvertible {
    public static let publicKeyLength = 32
    public static let maxSaltLength = 64

    public var publicKey: [UInt8]
    public var salt: [UInt8]

    public init(publicKey: [UInt8], salt: [UInt8] = []) {
        self.publicKey = publicKey
        self.salt = salt
    }

    /// Whether `text` is meant as a feed link (it may still be malformed).
    public static func looksLikeFeed(_ text: String) -> Bool {
        text.lowercased().contains("urn:btpk:")
    }

    public init(parsing text: String) throws(MetainfoError) {
        let trimmed = text.trimmingWhitespace()
        let scheme = "magnet:?"
        guard trimmed.lowercased().hasPrefix(scheme) else {
            throw .badMagnet("expected 'magnet:?xs=urn:btpk:<64 hex digits>', got '\(trimmed.prefix(60))'")
        }
        var key: [UInt8]?
        var salt: [UInt8] = []
        for parameter in trimmed.dropFirst(scheme.count).split(separator: "&") {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = pair.count > 1 ? (MagnetLink.percentDecode(String(pair[1])) ?? String(pair[1])) : ""
            switch String(pair[0]).lowercased() {
            case "xs":
                guard value.lowercased().hasPrefix("urn:btpk:") else { continue }
                let hex = String(value.dropFirst("urn:btpk:".count))
                guard hex.count == 2 * Self.publicKeyLength, let bytes = Hex.decode(hex) else {
                    throw .badMagnet("'\(hex.prefix(80))' is not a 64-hex-digit ed25519 public key")
                }
                key = bytes
            case "s":
                guard let bytes = Hex.decode(value), bytes.count <= Self.maxSaltLength else {
                    throw .badMagnet("salt 's' must be at most \(Self.maxSaltLength) bytes in hex")
                }
                salt = bytes
            default:
                continue
            }
        }
        guard let key else { throw .badMagnet("no 'xs=urn:btpk:' public key") }
        self.init(publicKey: key, salt: salt)
    }

    public var uri: String {
        "magnet:?xs=urn:btpk:\(Hex.encode(publicKey))" + (salt.isEmpty ? "" : "&s=\(Hex.encode(salt))")
    }

    public var description: String { uri }
}
