import Foundation

/// Writes files so that readers see either the old content or the whole new
/// content, never a torn write: data goes to a temporary file in the same
/// directory, is flushed to disk, then takes the final name in one step.
public enum AtomicFile {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case exists(String)
        case io(String, String)

        public var description: String {
            switch self {
            case .exists(let path): return "\(path) already exists (use --force to overwrite)"
            case .io(let path, let reason): return "cannot write \(path): \(reason)"
            }
        }
    }

    /// Writes `bytes` to `path`. With `overwrite: false` an existing file is left
    /// untouched and `.exists` is thrown — decided atomically by link(2), so two
    /// writers racing for one name cannot both win.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool, mode: mode_t = 0o644) throws(Failure) {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/." + base + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io(path, systemErrorMessage()) }
        let tempPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var keepTemp = false
        defer { if !keepTemp { unlink(tempPath) } }

        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = systemErrorMessage()
                close(fd)
                throw .io(path, reason)
            }
            done += count
        }
        fchmod(fd, mode)
        guard fsync(fd) == 0 else {
            let reason = systemErrorMessage()
            close(fd)
            throw .io(path, reason)
        }
        close(fd)

        if overwrite {
            guard rename(tempPath, path) == 0 else { throw .io(path, systemErrorMessage()) }
            keepTemp = true
        } else {
            guard link(tempPath, path) == 0 else {
                if errno == EEXIST { throw .exists(path) }
                throw .io(path, systemErrorMessage())
            }
        }
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Makes the rename itself durable across a power cut.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
