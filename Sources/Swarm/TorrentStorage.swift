import Crypto
import Foundation
import Metainfo
import Synchronization

/// The bytes of one torrent on disk: reads and writes at offsets across its
/// files, with BEP 47 pad files never touching the disk.
///
/// Files are created lazily, the first time a piece lands in them, and sized
/// sparsely at once (`ftruncate`), so space is not taken up front yet every
/// write goes to its final place. Methods are blocking and thread-safe: the
/// node calls them from its I/O thread pool, never from the event loop.
public final class TorrentStorage: Sendable {
    public let layout: FileLayout
    public let pieceHashes: [[UInt8]]
    public let tree: FileTree
    /// Each file's path below `tree.base`.
    public let paths: [[String]]
    public let writable: Bool
    private let descriptors = Mutex<[Int: Int32]>([:])
    /// Open files kept around; beyond this, files are opened per operation.
    private static let maxCachedDescriptors = 256
    /// Files written since the last `syncWrittenFiles()`.
    private let unsynced = Mutex<Set<Int>>([])

    /// - Parameters:
    ///   - base: the directory the torrent's top item lives in (`-o DIR`, or the parent of seeded content).
    ///   - rootName: the top item's name on disk (defaults to the torrent's `name`).
    ///   - writable: downloads create and write files and refuse symbolic links;
    ///     seeding opens the user's own files read-only.
    public init(info: TorrentInfo, base: String, rootName: String? = nil, writable: Bool) {
        layout = info.layout
        pieceHashes = info.pieceHashes
        tree = FileTree(base: base, refuseSymlinks: writable)
        self.writable = writable
        let root = rootName ?? info.name
        paths = info.files.map { info.isMultiFile ? [root] + $0.path : [root] }
    }

    deinit {
        for fd in descriptors.withLock({ $0.values }) { close(fd) }
    }

    public func displayPath(ofFile index: Int) -> String { tree.base + "/" + paths[index].joined(separator: "/") }

    /// Checks that downloading can start: the base directory exists (it is
    /// created if missing) and we may write in it.
    public func prepare() throws(StorageError) {
        guard writable else { return }
        do {
            try FileManager.default.createDirectory(atPath: tree.base, withIntermediateDirectories: true)
        } catch {
            throw StorageError(path: tree.base, reason: "cannot create the output directory")
        }
        guard access(tree.base, W_OK | X_OK) == 0 else { throw StorageError(path: tree.base, code: errno) }
    }

    // MARK: Pieces

    /// Hashes a complete piece and, if it matches, writes it in place.
    public func store(_ piece: PieceBuffer) -> StoreResult {
        verify(piece) ? writeVerified(piece) : .hashMismatch
    }

    /// Whether a complete piece matches its SHA-1 (pure CPU; any thread).
    public func verify(_ piece: PieceBuffer) -> Bool {
        let length = layout.length(ofPiece: piece.piece)
        return Insecure.SHA1.hash(data: UnsafeRawBufferPointer(rebasing: piece.bytes[0..<length])).elementsEqual(pieceHashes[piece.piece])
    }

    /// Writes a verified piece in place. The node calls this from a single
    /// writer thread: concurrent writers to one file would contend on its
    /// inode lock, and both kernel and user-space locks spin while they wait.
    public func writeVerified(_ piece: PieceBuffer) -> StoreResult {
        let length = layout.length(ofPiece: piece.piece)
        let bytes = UnsafeRawBufferPointer(rebasing: piece.bytes[0..<length])
        do {
            try write(bytes, at: Int64(piece.piece) * Int64(layout.pieceLength))
            return .written
        } catch {
            return .writeFailed(error.description)
        }
    }

    /// Writes bytes at a torrent offset (pad-file ranges are skipped).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StorageError) {
        var done = 0
        for slice in layout.slices(from: offset, length: Int64(bytes.count)) {
            defer { done += Int(slice.length) }
            if layout.files[slice.fileIndex].isPadding { continue }
            try withDescriptor(slice.fileIndex) { (fd: Int32) throws(StorageError) in
                var written = 0
                while written < Int(slice.length) {
                    let count = pwrite(fd, bytes.baseAddress! + done + written, Int(slice.length) - written,
                                       off_t(slice.offsetInFile) + off_t(written))
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw StorageError(path: displayPath(ofFile: slice.fileIndex), code: errno)
                    }
                    written += count
                }
            }
            unsynced.withLock { _ = $0.insert(slice.fileIndex) }
        }
    }

    /// Flushes every file written since the last call to the disk (`fdatasync`)
    /// and returns their indices. Resume data is saved only after this, so it
    /// never names a piece that a power cut could still take back from the
    /// page cache (`kill -9` cannot: the kernel holds the bytes by then).
    @discardableResult
    public func syncWrittenFiles() throws(StorageError) -> [Int] {
        let files = unsynced.withLock { pending in
            defer { pending.removeAll() }
            return pending.sorted()
        }
        for (position, index) in files.enumerated() {
            do {
                try withDescriptor(index) { (fd: Int32) throws(StorageError) in
                    while fdatasync(fd) != 0 {
                        if errno != EINTR { throw StorageError(path: displayPath(ofFile: index), code: errno) }
                    }
                }
            } catch {
                // Still in doubt: the next call tries them again.
                unsynced.withLock { $0.formUnion(files[position...]) }
                throw error
            }
        }
        return files
    }

    /// Reads bytes at a torrent offset; pad-file ranges read as zeros.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StorageError) {
        var done = 0
        for slice in layout.slices(from: offset, length: Int64(buffer.count)) {
            defer { done += Int(slice.length) }
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + Int(slice.length))])
            if layout.files[slice.fileIndex].isPadding {
                target.initializeMemory(as: UInt8.self, repeating: 0)
                continue
            }
            try withDescriptor(slice.fileIndex) { (fd: Int32) throws(StorageError) in
                try Self.readFully(fd, into: target, at: off_t(slice.offsetInFile), path: displayPath(ofFile: slice.fileIndex))
            }
        }
    }

    static func readFully(_ fd: Int32, into target: UnsafeMutableRawBufferPointer, at offset: off_t, path: String) throws(StorageError) {
        var got = 0
        while got < target.count {
            let count = pread(fd, target.baseAddress! + got, target.count - got, offset + off_t(got))
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError(path: path, code: errno)
            }
            if count == 0 { throw StorageError(path: path, reason: "file is shorter than the torrent says") }
            got += count
        }
    }

    /// Runs `body` with an open descriptor for file `index`, cached when possible.
    private func withDescriptor<T>(_ index: Int, _ body: (Int32) throws(StorageError) -> T) throws(StorageError) -> T {
        if let fd = descriptors.withLock({ $0[index] }) { return try body(fd) }
        let fd = try openFile(index)
        let cached = descriptors.withLock { table -> Bool in
            if table[index] != nil {
                close(fd)  // another thread opened it meanwhile: share that one
                return true
            }
            guard table.count < Self.maxCachedDescriptors else { return false }
            table[index] = fd
            return true
        }
        if cached, let shared = descriptors.withLock({ $0[index] }) { return try body(shared) }
        defer { close(fd) }
        return try body(fd)
    }

    private func openFile(_ index: Int) throws(StorageError) -> Int32 {
        let fd = try tree.open(paths[index], create: writable)
        if writable {
            // Sparse preallocation: the file takes its final size now, its blocks only when written.
            var info = stat()
            if fstat(fd, &info) == 0, Int64(info.st_size) < layout.files[index].length,
               ftruncate(fd, off_t(layout.files[index].length)) != 0 {
                let code = errno
                close(fd)
                throw StorageError(path: displayPath(ofFile: index), code: code)
            }
        }
        return fd
    }

    // MARK: Resume support

    /// Size and mtime (ns) of each file, nil for pad files and missing files.
    public func fileStatuses() -> [FileStatus?] {
        layout.files.indices.map { index in
            guard !layout.files[index].isPadding, let status = tree.status(paths[index]) else { return nil }
            return FileStatus(size: status.size, mtime: status.mtime)
        }
    }

    /// Opens file `index` read-only for a recheck: through the same safe path as
    /// writes (no symlinks), never creating it, so a recheck leaves no empty files
    /// behind. The caller closes the descriptor.
    @Sendable public func openForReading(_ index: Int) -> Int32? {
        try? tree.open(paths[index], create: false)
    }
}

/// What resume data remembers of a file to tell whether it changed since.
public struct FileStatus: Hashable, Sendable {
    public let size: Int64
    public let mtime: Int64

    public init(size: Int64, mtime: Int64) {
        self.size = size
        self.mtime = mtime
    }
}
