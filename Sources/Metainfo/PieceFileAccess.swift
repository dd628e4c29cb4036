import Foundation

/// How `PieceHasher` reaches the files of a torrent, and what a file it cannot
/// read means.
///
/// Publishing (`paths`) reads the user's files and treats a missing or shrunk
/// file as an error. Rechecking a download (`tolerant`) opens files through
/// the storage's own safe path (no symlinks followed, nothing created), and a
/// file that is missing or short only fails the pieces it holds.
public struct PieceFileAccess: Sendable {
    /// Opens file `index` for reading; nil when it cannot be opened.
    let open: @Sendable (Int) -> Int32?
    /// Names file `index` in error messages.
    let name: @Sendable (Int) -> String
    let strict: Bool

    public static func paths(_ paths: [String]) -> PieceFileAccess {
        PieceFileAccess(open: { index in
            let fd = Foundation.open(paths[index], O_RDONLY)
            return fd >= 0 ? fd : nil
        }, name: { paths[$0] }, strict: true)
    }

    public static func tolerant(open: @escaping @Sendable (Int) -> Int32?) -> PieceFileAccess {
        PieceFileAccess(open: open, name: { "file \($0)" }, strict: false)
    }
}

/// A worker's file descriptors, opened on first use and kept few.
struct OpenFiles {
    let access: PieceFileAccess
    var open: [Int: Int32] = [:]

    init(access: PieceFileAccess) { self.access = access }

    /// Fills `buffer` from file `index` at `offset`; throws when the file cannot be
    /// opened or ends early.
    mutating func read(file index: Int, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(MetainfoError) {
        let fd = try descriptor(for: index)
        var done = 0
        while done < buffer.count {
            let count = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: access.name(index), reason: systemErrorMessage())
            }
            if count == 0 { throw .io(path: access.name(index), reason: "file shrank while it was being hashed") }
            done += count
        }
    }

    private mutating func descriptor(for index: Int) throws(MetainfoError) -> Int32 {
        if let fd = open[index] { return fd }
        if open.count >= 16 { closeAll() }
        guard let fd = access.open(index) else { throw .io(path: access.name(index), reason: systemErrorMessage()) }
        open[index] = fd
        return fd
    }

    mutating func closeAll() {
        for fd in open.values { close(fd) }
        open.removeAll()
    }
}
