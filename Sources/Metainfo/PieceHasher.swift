import Crypto
import Foundation
import Synchronization

/// Hashes every piece of some content with SHA-1 on all cores.
///
/// Each worker claims batches of consecutive pieces from a shared counter,
/// reads them with `pread` and hashes them; batches keep reads large and
/// sequential per worker while every core stays busy to the end. Where the CPU
/// allows, a batch is sixteen pieces hashed side by side (`MultiBufferSHA1`);
/// otherwise one by one. Padding files (BEP 47) read as zeros.
///
/// With tolerant file access (rechecks), a piece whose bytes cannot be read
/// gets an all-zero digest, which no real piece hash equals.
public final class PieceHasher: Sendable {
    private let layout: FileLayout
    private let access: PieceFileAccess
    private let threads: Int
    private let nextBatch = Atomic<Int>(0)
    private let hashedBytes = Atomic<Int64>(0)
    private let firstError = Mutex<MetainfoError?>(nil)

    public init(layout: FileLayout, access: PieceFileAccess, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.layout = layout
        self.access = access
        self.threads = max(1, threads)
    }

    public convenience init(layout: FileLayout, diskPaths: [String], threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.init(layout: layout, access: .paths(diskPaths), threads: threads)
    }

    /// Bytes hashed so far; safe to read from any thread while `run` works.
    private var progress: Int64 { hashedBytes.load(ordering: .relaxed) }

    /// Hashes all pieces; calls `report` about ten times a second with the bytes done.
    /// Returns the concatenated 20-byte digests.
    public func run(report: (Int64) -> Void = { _ in }) throws(MetainfoError) -> [UInt8] {
        let pieceCount = layout.pieceCount
        let output = DigestBuffer(count: pieceCount * 20)
        let batchPieces = MultiBufferSHA1.isAvailable ? MultiBufferSHA1.lanes : max(1, (4 << 20) / max(layout.pieceLength, 1))
        let batchCount = (pieceCount + batchPieces - 1) / batchPieces
        let done = DispatchSemaphore(value: 0)
        let workers = min(threads, max(1, batchCount))
        for _ in 0..<workers {
            Thread.detachNewThread { [self] in
                var files = OpenFiles(access: access)
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
                defer { buffer.deallocate(); files.closeAll(); done.signal() }
                while firstError.withLock({ $0 == nil }) {
                    let batch = nextBatch.add(1, ordering: .relaxed).oldValue
                    guard batch < batchCount else { break }
                    let first = batch * batchPieces
                    let last = min(pieceCount, first + batchPieces)
                    do throws(MetainfoError) {
                        try hashBatch(first..<last, buffer: buffer, files: &files, output: output)
                    } catch {
                        firstError.withLock { if $0 == nil { $0 = error } }
                    }
                }
            }
        }
        var finished = 0
        while finished < workers {
            if done.wait(timeout: .now() + .milliseconds(100)) == .success { finished += 1 }
            report(progress)
        }
        if let error = firstError.withLock({ $0 }) { throw error }
        return output.bytes
    }

    /// Room for one whole piece (the one-by-one path) and, where the CPU allows,
    /// sixteen chunk-sized slots (the multi-buffer path).
    private var bufferSize: Int {
        max(layout.pieceLength, MultiBufferSHA1.isAvailable ? MultiBufferSHA1.lanes * PieceHasher.chunk : 0)
    }

    /// Bytes of each piece read per step of a sixteen-piece batch (a multiple of 64).
    static let chunk = 64 << 10

    private func hashBatch(_ pieces: Range<Int>, buffer: UnsafeMutableRawBufferPointer,
                           files: inout OpenFiles, output: DigestBuffer) throws(MetainfoError) {
        // Sixteen pieces of full length go side by side; the short last piece and
        // a final partial batch take the one-by-one path.
        if MultiBufferSHA1.isAvailable, pieces.count == MultiBufferSHA1.lanes,
           layout.length(ofPiece: pieces.upperBound - 1) == layout.pieceLength {
            try hashSixteen(pieces, buffer: buffer, files: &files, output: output)
        } else {
            try hashOneByOne(pieces, buffer: buffer, files: &files, output: output)
        }
    }

    private func hashSixteen(_ pieces: Range<Int>, buffer: UnsafeMutableRawBufferPointer,
                             files: inout OpenFiles, output: DigestBuffer) throws(MetainfoError) {
        let chunk = PieceHasher.chunk
        let offsets = (0..<MultiBufferSHA1.lanes).map { Int32($0 * chunk) }
        var hasher = MultiBufferSHA1(messageLength: layout.pieceLength)
        var unreadable = Set<Int>()
        var position = 0
        while position < layout.pieceLength {
            let length = min(chunk, layout.pieceLength - position)
            for (lane, piece) in pieces.enumerated() where !unreadable.contains(lane) {
                let start = Int64(piece) * Int64(layout.pieceLength) + Int64(position)
                if try !read(from: start, length: length, into: buffer, at: lane * chunk, files: &files) {
                    unreadable.insert(lane)  // its slot keeps being hashed, its digest is thrown away
                }
            }
            position += length
            hashedBytes.add(Int64(length * pieces.count), ordering: .relaxed)
            if let digests = hasher.feed(UnsafeRawBufferPointer(buffer), offsets: offsets, length: length) {
                for (lane, piece) in pieces.enumerated() {
                    output.store(unreadable.contains(lane) ? DigestBuffer.unreadable[...] : digests[(lane * 20)..<(lane * 20 + 20)], at: piece)
                }
            }
        }
    }

    /// Reads torrent bytes `[start, start + length)`, across files, into `buffer` at
    /// `offset`. Returns false when tolerant access could not read them all.
    private func read(from start: Int64, length: Int, into buffer: UnsafeMutableRawBufferPointer,
                      at offset: Int, files: inout OpenFiles) throws(MetainfoError) -> Bool {
        var written = offset
        for slice in layout.slices(from: start, length: Int64(length)) {
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + Int(slice.length))])
            written += Int(slice.length)
            if layout.files[slice.fileIndex].isPadding {
                target.initializeMemory(as: UInt8.self, repeating: 0)
                continue
            }
            do {
                try files.read(file: slice.fileIndex, at: slice.offsetInFile, into: target)
            } catch {
                if access.strict { throw error }
                target.initializeMemory(as: UInt8.self, repeating: 0)
                return false
            }
        }
        return true
    }

    private func hashOneByOne(_ pieces: Range<Int>, buffer: UnsafeMutableRawBufferPointer,
                              files: inout OpenFiles, output: DigestBuffer) throws(MetainfoError) {
        // One piece at a time so the buffer never needs more than one piece when
        // the batch size was set for the multi-buffer path.
        for piece in pieces {
            let length = layout.length(ofPiece: piece)
            if try read(from: Int64(piece) * Int64(layout.pieceLength), length: length, into: buffer, at: 0, files: &files) {
                output.store(Array(Insecure.SHA1.hash(data: UnsafeRawBufferPointer(rebasing: buffer[0..<length]))), at: piece)
            } else {
                output.store(DigestBuffer.unreadable, at: piece)
            }
            hashedBytes.add(Int64(length), ordering: .relaxed)
        }
    }
}

/// The digests, written by several workers at disjoint indices.
private final class DigestBuffer: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<UInt8>
    /// The digest recorded for a piece that could not be read.
    static let unreadable = [UInt8](repeating: 0, count: 20)

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    func store<C: Collection>(_ digest: C, at piece: Int) where C.Element == UInt8 {
        for (index, byte) in digest.enumerated() { storage[piece * 20 + index] = byte }
    }

    var bytes: [UInt8] { Array(storage) }
}
