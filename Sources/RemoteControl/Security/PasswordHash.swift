import CSodium

/// A password stored as libsodium's `crypto_pwhash_str` (Argon2id, with its own
/// salt and cost parameters inside the string), never as the password itself.
public struct PasswordHash: Sendable, Equatable, Codable {
    /// The `$argon2id$…` string, as libsodium writes it.
    public let encoded: String

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case empty
        case tooLong
        case outOfMemory
        case malformed

        public var description: String {
            switch self {
            case .empty: return "the password is empty"
            case .tooLong: return "the password is longer than 4096 bytes"
            case .outOfMemory: return "libsodium could not allocate the memory crypto_pwhash needs"
            case .malformed: return "the stored password hash is not a crypto_pwhash string"
            }
        }
    }

    /// Hashes `password` with the interactive cost (about 64 MiB and tens of
    /// milliseconds): the daemon verifies it once per client, then remembers the
    /// verified credential (see `Credentials`).
    public init(hashing password: String) throws(Failure) {
        let bytes = Array(password.utf8)
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= 4096 else { throw .tooLong }
        guard sodium_init() >= 0 else { throw .outOfMemory }
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let status = bytes.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                crypto_pwhash_str(&output, chars.baseAddress!, UInt64(chars.count),
                                  UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), Int(crypto_pwhash_MEMLIMIT_INTERACTIVE))
            }
        }
        guard status == 0 else { throw .outOfMemory }
        encoded = String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Accepts a stored string only if libsodium recognises its algorithm prefix.
    public init(encoded: String) throws(Failure) {
        guard encoded.hasPrefix("$argon2id$") || encoded.hasPrefix("$argon2i$") else { throw .malformed }
        self.encoded = encoded
    }

    public init(from decoder: any Decoder) throws {
        let string = try decoder.singleValueContainer().decode(String.self)
        try self.init(encoded: string)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoded)
    }

    /// Constant-time verification inside libsodium.
    public func verifies(_ password: String) -> Bool {
        let bytes = Array(password.utf8)
        guard !bytes.isEmpty, bytes.count <= 4096, sodium_init() >= 0 else { return false }
        var stored = Array(encoded.utf8CString)
        return bytes.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                crypto_pwhash_str_verify(&stored, chars.baseAddress!, UInt64(chars.count)) == 0
            }
        }
    }
}
