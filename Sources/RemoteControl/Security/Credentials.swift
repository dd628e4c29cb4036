import Foundation
import Metainfo

/// Who may use the remote-control API: one user name with a password hash, and
/// any number of API keys. Kept in `<state-dir>/remote-credentials.json` (mode
/// 0600), written atomically; the daemon only reads it, `daemon --set-password`
/// and `daemon --add-api-key` write it.
public struct Credentials: Sendable, Equatable, Codable {
    public var user: String
    public var password: PasswordHash?
    public var apiKeys: [APIKey]

    public init(user: String = "admin", password: PasswordHash? = nil, apiKeys: [APIKey] = []) {
        self.user = user
        self.password = password
        self.apiKeys = apiKeys
    }

    /// True when at least one way to authenticate exists.
    public var isConfigured: Bool { password != nil || !apiKeys.isEmpty }

    public static let fileName = "remote-credentials.json"

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String, String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
            }
        }
    }

    /// The stored credentials, or empty ones when the file does not exist.
    public static func load(stateDirectory: String) throws -> Credentials {
        let path = (stateDirectory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return Credentials() }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(Credentials.self, from: data)
        } catch {
            throw Failure.unreadable(path, "\(error)")
        }
    }

    public func save(stateDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = Array(try encoder.encode(self))
        try AtomicFile.write(bytes, to: (stateDirectory as NSString).appendingPathComponent(Credentials.fileName),
                             overwrite: true, mode: 0o600)
    }
}
