import DHT
import Foundation
import Identity
import Metainfo

/// A router's state directory: `router.id` (its node ID in hex), the ring
/// files, and `router.lock`, held with flock(2) while the router runs so that
/// two routers never write one ring.
final class RouterStateDirectory: Sendable {
    let path: String
    private let lockDescriptor: Int32

    init(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw RouterService.StartFailure(description: "cannot create state directory \(path): \(error.localizedDescription)")
        }
        let lockPath = path + "/router.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RouterService.StartFailure(description: "cannot open \(lockPath): \(systemErrorMessage())") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw RouterService.StartFailure(description: "\(path) is in use by another router (\(lockPath) is locked)")
        }
        self.path = path
        lockDescriptor = descriptor
    }

    func unlock() {
        flock(lockDescriptor, LOCK_UN)
    }

    deinit { close(lockDescriptor) }

    /// The router's ID: kept across restarts so that nodes which saved it see the same router.
    func loadOrCreateNodeID() throws -> NodeID {
        let idPath = path + "/router.id"
        if let data = FileManager.default.contents(atPath: idPath) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if let id = NodeID(hex: text) { return id }
        }
        let id = NodeID(bytes: SecureRandom.bytes(20))!
        do {
            try AtomicFile.write(Array((id.hex + "\n").utf8), to: idPath, overwrite: true, mode: 0o600)
        } catch {
            throw RouterService.StartFailure(description: "\(error)")
        }
        return id
    }
}
