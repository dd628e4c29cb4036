/// A magnet link for a v1 torrent: `magnet:?xt=urn:btih:<hash>&dn=<name>&x.pe=<host:port>`.
///
/// Parsing accepts a bare infohash (40 hex or 32 base32 characters) wherever a
/// link is expected. `tr=` (trackers) is accepted and ignored: BitFountain finds
/// peers on the DHT. Other unknown parameters are ignored, as BEP 9 asks.
public struct MagnetLink: Hashable, Sendable, CustomStringConvertible {
    public var infoHash: InfoHash
    public var displayName: String?
    /// Peers to try directly (`x.pe`), before or besides the DHT.
    public var peers: [HostPort]

    public init(infoHash: InfoHash, displayName: String? = nil, peers: [HostPort] = []) {
        self.infoHash = infoHash
        self.displayName = displayName
        self.peers = peers
    }

    public init(parsing text: String) throws(MetainfoError) {
        let trimmed = text.trimmingWhitespace()
        if let bare = InfoHash(string: trimmed) {
            self.init(infoHash: bare)
            return
        }
        let scheme = "magnet:?"
        guard trimmed.lowercased().hasPrefix(scheme) else {
            throw .badMagnet("expected 'magnet:?xt=urn:btih:…' or a 40-character hex infohash, got '\(trimmed.prefix(60))'")
        }
        var infoHash: InfoHash?
        var sawV2Only = false
        var name: String?
        var peers: [HostPort] = []
        for parameter in trimmed.dropFirst(scheme.count).split(separator: "&") {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(pair[0]).lowercased()
            let value = pair.count > 1 ? String(pair[1]) : ""
            switch key {
            case "xt":
                let urn = (MagnetLink.percentDecode(value) ?? value)
                if urn.lowercased().hasPrefix("urn:btih:") {
                    let hashText = String(urn.dropFirst("urn:btih:".count))
                    guard let parsed = InfoHash(string: hashText) else {
                        throw .badMagnet("'\(hashText)' is not a 40-character hex or 32-character base32 infohash")
                    }
                    if let existing = infoHash, existing != parsed { throw .badMagnet("two different btih infohashes") }
                    infoHash = parsed
                } else if urn.lowercased().hasPrefix("urn:btmh:") {
                    sawV2Only = true
                }
            case "dn":
                name = MagnetLink.percentDecode(value.replacingPlus())
            case "x.pe":
                let decoded = MagnetLink.percentDecode(value) ?? value
                peers.append(try HostPort(parsing: decoded))
            default:
                continue  // tr, ws, xl, so, …: not needed to find the torrent on the DHT
            }
        }
        guard let infoHash else {
            throw .badMagnet(sawV2Only ? "only a v2 (btmh) infohash; BitFountain needs a v1 'urn:btih:' hash" : "no 'xt=urn:btih:' infohash")
        }
        self.init(infoHash: infoHash, displayName: name, peers: peers)
    }

    /// The canonical text form: lowercase hex infohash, then `dn` and `x.pe`.
    public var uri: String {
        var text = "magnet:?xt=urn:btih:\(infoHash.hex)"
        if let displayName { text += "&dn=\(MagnetLink.percentEncode(displayName))" }
        for peer in peers { text += "&x.pe=\(MagnetLink.percentEncode(peer.description))" }
        return text
    }

    public var description: String { uri }

    // Unreserved characters per RFC 3986 pass through; ':' and '[]' too, so x.pe stays readable.
    private static let passThrough = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:[]".utf8)

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if passThrough.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// Decodes %XX escapes; nil when an escape is malformed or the result is not UTF-8.
    static func percentDecode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let decoded = Hex.decode(String(decoding: [high, low], as: UTF8.self)) else { return nil }
                bytes.append(decoded[0])
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

extension String {
    /// In query strings '+' stands for a space; clients write names that way.
    func replacingPlus() -> String {
        String(map { $0 == "+" ? " " : $0 })
    }
}
