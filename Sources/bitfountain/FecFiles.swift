import Foundation
import Metainfo

/// Files for `bitfountain fec`, memory-mapped so that only the codec's working
/// symbols live in our memory and the page cache carries the rest.

/// An input file mapped read-only.
final class MappedInput {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CLIError("cannot open \(path): \(systemErrorMessage())") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw CLIError("cannot read \(path): \(systemErrorMessage())") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw CLIError("\(path) is not a regular file") }
        let size = Int(status.st_size)
        if size == 0 {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else { throw CLIError("cannot map \(path): \(systemErrorMessage())") }
        madvise(address, size, MADV_SEQUENTIAL)
        mapping = address
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit { if let mapping { munmap(mapping, bytes.count) } }
}

/// An output file written through a mapping into a temporary file next to its
/// final name, which it takes only when complete: an interrupted or failed run
/// leaves nothing behind. Its blocks are reserved up front, so a full disk is
/// an error here rather than a crash later.
final class MappedOutput {
    let path: String
    let bytes: UnsafeMutableRawBufferPointer
    private let temporaryPath: String
    private var fd: Int32
    private var finished = false

    init(path: String, size: Int, overwrite: Bool) throws {
        self.path = path
        if !overwrite, FileManager.default.fileExists(atPath: path) {
            throw CLIError("\(path) already exists (use --force to overwrite)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/." + base + ".tmp-XXXXXX").utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CLIError("cannot write \(path): \(systemErrorMessage())") }
        temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard size > 0 else {
            bytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            return
        }
        let reserved = posix_fallocate(fd, 0, off_t(size))
        guard reserved == 0 else {
            let reason = String(cString: strerror(reserved))
            close(fd)
            unlink(temporaryPath)
            throw CLIError("cannot write \(Format.bytes(Int64(size))) to \(path): \(reason)")
        }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else {
            let reason = systemErrorMessage()
            close(fd)
            unlink(temporaryPath)
            throw CLIError("cannot map \(path): \(reason)")
        }
        bytes = UnsafeMutableRawBufferPointer(start: address, count: size)
    }

    deinit {
        if !finished {
            if let base = bytes.baseAddress { munmap(base, bytes.count) }
            close(fd)
            unlink(temporaryPath)
        }
    }

    /// Flushes everything to disk and gives the file its final name.
    func commit(overwrite: Bool) throws {
        if let base = bytes.baseAddress {
            guard msync(base, bytes.count, MS_SYNC) == 0 else { throw CLIError("cannot write \(path): \(systemErrorMessage())") }
            munmap(base, bytes.count)
        }
        fchmod(fd, 0o644)
        guard fsync(fd) == 0 else { throw CLIError("cannot write \(path): \(systemErrorMessage())") }
        close(fd)
        finished = true
        if overwrite {
            guard rename(temporaryPath, path) == 0 else {
                let reason = systemErrorMessage()
                unlink(temporaryPath)
                throw CLIError("cannot write \(path): \(reason)")
            }
        } else {
            defer { unlink(temporaryPath) }
            guard link(temporaryPath, path) == 0 else {
                throw CLIError(errno == EEXIST ? "\(path) already exists (use --force to overwrite)"
                                               : "cannot write \(path): \(systemErrorMessage())")
            }
        }
    }
}

/// SIGINT/SIGTERM set a flag that long loops poll, so they can stop between
/// steps and clean up instead of dying mid-write.
enum Interruption {
    nonisolated(unsafe) private static var raised: sig_atomic_t = 0

    static func install() {
        signal(SIGINT) { _ in Interruption.raised = 1 }
        signal(SIGTERM) { _ in Interruption.raised = 1 }
    }

    static var requested: Bool { raised != 0 }
}
