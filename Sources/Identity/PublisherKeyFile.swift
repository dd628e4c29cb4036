import Bencode

/// A publisher's ed25519 key (BEP 46 feeds), on disk as a bencoded dictionary
/// `{format: "bf-publisher-key", version: 1, seed: <32 bytes>}`. Kept apart
/// from the node key (`NodeKeyFile`) on purpose: a node's identity changes
/// hands with its state directory, a feed's key is the publisher's name for
/// as long as the feed lives. Whoever writes the file must give it mode 0600.
public enum PublisherKeyFile {
    public static let format = "bf-publisher-key"

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case badName(String)

        public var description: String {
            switch self {
            case .malformed(let reason): return "publisher key file is not valid: \(reason)"
            case .badName(let name): return "'\(name)' is not a key name (letters, digits, '-', '_' and '.', at most 64, not starting with '.')"
            }
        }
    }

    public static func encode(_ key: Ed25519.SigningKey) -> [UInt8] {
        BValue.dict(["format": .string(format), "version": 1, "seed": .bytes(key.seed)]).encoded
    }

    /// Reads our own format, or a bare 32-byte seed / 64-hex-digit seed (what
    /// other tools export), so `key import` can take either.
    public static func decode(_ bytes: [UInt8]) throws(Failure) -> Ed25519.SigningKey {
        guard bytes.count <= 1_024 else { throw .malformed("larger than any key file") }
        if bytes.count == Ed25519.seedLength, bytes.first != UInt8(ascii: "d") { return Ed25519.SigningKey(seed: bytes)! }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n\r\t")
        if text.utf8.count == 64, let seed = HexDigits.decode(text) { return Ed25519.SigningKey(seed: seed)! }
        let node: BNode
        do { node = try BencodeDecoder().decode(bytes) } catch { throw .malformed("\(error)") }
        guard node["format"]?.string == format else { throw .malformed("missing format \"\(format)\"") }
        guard node["version"]?.integer == 1 else { throw .malformed("unsupported version") }
        guard let seed = node["seed"]?.bytes, let key = Ed25519.SigningKey(seed: seed) else {
            throw .malformed("seed must be \(Ed25519.seedLength) bytes")
        }
        return key
    }

    /// Key names become file names: a conservative alphabet keeps them from
    /// naming anything outside the key directory.
    public static func validate(name: String) throws(Failure) {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".utf8)
        guard !name.isEmpty, name.utf8.count <= 64, !name.hasPrefix("."), name.utf8.allSatisfy(allowed.contains) else {
            throw .badName(name)
        }
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        let skip = Set(set.unicodeScalars)
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !skip.contains($0) }),
              let end = scalars.lastIndex(where: { !skip.contains($0) }) else { return "" }
        return String(scalars[start...end])
    }
}
