import CSodium
import Crypto

/// An API key for programs (`Authorization: Bearer <token>`). Only the SHA-256 of
/// the token is stored: the token is 32 random bytes, so a slow hash adds nothing.
public struct APIKey: Sendable, Equatable, Codable {
    public let name: String
    /// Lowercase hex SHA-256 of the token.
    public let tokenDigest: String

    public init(name: String, tokenDigest: String) {
        self.name = name
        self.tokenDigest = tokenDigest
    }

    /// A fresh key and its token; the token is shown once and never stored.
    public static func generate(name: String) -> (key: APIKey, token: String) {
        _ = sodium_init()
        var random = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&random, random.count)
        let token = "bf_" + hex(random)
        return (APIKey(name: name, tokenDigest: digest(of: token)), token)
    }

    public func matches(token: String) -> Bool {
        ConstantTime.equal(Array(APIKey.digest(of: token).utf8), Array(tokenDigest.utf8))
    }

    static func digest(of token: String) -> String { hex(Array(SHA256.hash(data: Array(token.utf8)))) }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

enum ConstantTime {
    /// Equal-length comparison without an early exit (sodium_memcmp).
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in sodium_memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
    }
}
