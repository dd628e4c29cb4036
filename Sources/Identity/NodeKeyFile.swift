import Bencode

/// The on-disk form of a node's ed25519 key: a bencoded dictionary
/// `{format: "bf-node-key", version: 1, seed: <32 bytes>}`. The file holds a
/// secret, so whoever writes it must give it mode 0600.
public enum NodeKeyFile {
    public static let fileName = "node.key"

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self {
            case .malformed(let reason): return "node key file is not valid: \(reason)"
            }
        }
    }

    public static func encode(_ key: Ed25519.SigningKey) -> [UInt8] {
        BValue.dict(["format": .string("bf-node-key"), "version": 1, "seed": .bytes(key.seed)]).encoded
    }

    public static func decode(_ bytes: [UInt8]) throws(Failure) -> Ed25519.SigningKey {
        guard bytes.count <= 1024 else { throw .malformed("larger than any key file") }
        let node: BNode
        do { node = try BencodeDecoder().decode(bytes) } catch { throw .malformed("\(error)") }
        guard node["format"]?.string == "bf-node-key" else { throw .malformed("missing format \"bf-node-key\"") }
        guard node["version"]?.integer == 1 else { throw .malformed("unsupported version") }
        guard let seed = node["seed"]?.bytes, let key = Ed25519.SigningKey(seed: seed) else {
            throw .malformed("seed must be \(Ed25519.seedLength) bytes")
        }
        return key
    }
}
