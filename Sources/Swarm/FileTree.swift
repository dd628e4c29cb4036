import Foundation
import Metainfo

/// Opens the files of a torrent below one base directory without ever leaving it.
///
/// Paths from metadata are untrusted. `SafePath` already rejected `..`, `/` and
/// friends; this type also refuses to follow a symbolic link planted inside the
/// base directory (a link named like a torrent directory could point anywhere):
/// every component is opened with `openat` and `O_NOFOLLOW` relative to the
/// directory before it. Directories are created only when a file is written.
public struct FileTree: Sendable {
    /// The directory every file lives under (the user's output directory).
    public let base: String
    /// When false (seeding the user's own content), links are followed like any program would.
    public let refuseSymlinks: Bool

    public init(base: String, refuseSymlinks: Bool) {
        self.base = base
        self.refuseSymlinks = refuseSymlinks
    }

    /// Opens `components` (relative to `base`) for reading, or for reading and
    /// writing with creation of missing directories and the file itself.
    public func open(_ components: [String], create: Bool) throws(StorageError) -> Int32 {
        let display = base + "/" + components.joined(separator: "/")
        do {
            _ = try SafePath.validate(components)
        } catch {
            throw StorageError(path: display, reason: error.description)
        }
        let noFollow = refuseSymlinks ? O_NOFOLLOW : 0
        var directory = Foundation.open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw StorageError(path: base, code: errno) }
        defer { close(directory) }
        for component in components.dropLast() {
            var next = openat(directory, component, O_RDONLY | O_DIRECTORY | O_CLOEXEC | noFollow)
            if next < 0, errno == ENOENT, create {
                if mkdirat(directory, component, 0o755) != 0, errno != EEXIST { throw StorageError(path: display, code: errno) }
                next = openat(directory, component, O_RDONLY | O_DIRECTORY | O_CLOEXEC | noFollow)
            }
            guard next >= 0 else { throw Self.error(display, errno) }
            close(directory)
            directory = next
        }
        let flags = (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC | noFollow
        let fd = openat(directory, components.last!, flags, 0o644)
        guard fd >= 0 else { throw Self.error(display, errno) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            close(fd)
            throw StorageError(path: display, reason: "not a regular file")
        }
        return fd
    }

    /// `ELOOP`/`ENOTDIR` from `O_NOFOLLOW` mean a symbolic link was in the way.
    private static func error(_ path: String, _ code: Int32) -> StorageError {
        if code == ELOOP || code == ENOTDIR {
            return StorageError(path: path, reason: "refusing to follow a symbolic link inside the output directory", code: code)
        }
        return StorageError(path: path, code: code)
    }

    /// Size and modification time of a file, or nil when it does not exist (links not followed).
    public func status(_ components: [String]) -> (size: Int64, mtime: Int64)? {
        guard let fd = try? open(components, create: false) else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
