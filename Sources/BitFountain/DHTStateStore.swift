import DHT
import Foundation
import Identity
import Metainfo
import Swarm

/// The files a DHT node keeps in its state directory:
/// - `node.key`: the ed25519 key (mode 0600), created on first start;
/// - `dht-state.benc`: external addresses and routing table, rewritten
///   atomically (write to a temporary file, fsync, rename) while running and
///   at shutdown.
public struct DHTStateStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// `${XDG_STATE_HOME:-$HOME/.local/state}/bitfountain`: the directory `seed`
    /// and `get` keep their resume data in, where their embedded node keeps its state too.
    public static var defaultDirectory: String { StateDirectory.defaultPath() }

    public var keyPath: String { directory + "/" + NodeKeyFile.fileName }
    public var statePath: String { directory + "/" + DHTStateSnapshot.fileName }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Creates the directory (mode 0700) if needed.
    public func prepare() throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure(description: "cannot create state directory \(directory): \(error.localizedDescription)")
        }
    }

    /// The node's key: read from `node.key`, or made and saved (mode 0600) on first use.
    /// A key file that exists but cannot be read is an error, never silently replaced.
    public func loadOrCreateKey() throws -> Ed25519.SigningKey {
        try prepare()
        if FileManager.default.fileExists(atPath: keyPath) {
            guard let data = FileManager.default.contents(atPath: keyPath) else {
                throw Failure(description: "cannot read \(keyPath)")
            }
            do {
                return try NodeKeyFile.decode([UInt8](data))
            } catch {
                throw Failure(description: "\(keyPath): \(error) (move it away to start with a new identity)")
            }
        }
        let key = Ed25519.SigningKey.generate()
        do {
            try AtomicFile.write(NodeKeyFile.encode(key), to: keyPath, overwrite: false, mode: 0o600)
        } catch .exists(_) {
            // Another process made one first: use theirs.
            return try loadOrCreateKey()
        } catch {
            throw Failure(description: "\(error)")
        }
        return key
    }

    /// The saved state, nil when there is none. A damaged file is reported
    /// through `warning` and otherwise ignored (it is replaced at the next save).
    public func loadSnapshot(warning: (String) -> Void = { _ in }) -> DHTStateSnapshot? {
        guard let handle = FileHandle(forReadingAtPath: statePath) else { return nil }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: DHTStateSnapshot.maxFileSize + 1)) ?? Data()
        do {
            return try DHTStateSnapshot(decoding: [UInt8](data))
        } catch {
            warning("\(statePath): \(error); starting from the bootstrap nodes")
            return nil
        }
    }

    public func save(_ snapshot: DHTStateSnapshot) throws {
        try prepare()
        do {
            try AtomicFile.write(snapshot.encoded(), to: statePath, overwrite: true, mode: 0o600)
        } catch {
            throw Failure(description: "\(error)")
        }
    }
}
