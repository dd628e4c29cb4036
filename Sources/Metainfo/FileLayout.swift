/// One file of a torrent, positioned in the torrent's flat byte space.
public struct FileEntry: Hashable, Sendable {
    /// Path components relative to the torrent's root (the `name` directory for
    /// multi-file torrents; for a single-file torrent, just `[name]`).
    public let path: [String]
    public let length: Int64
    /// Offset of the file's first byte in the concatenation of all files.
    public let offset: Int64
    /// BEP 47 padding file (`attr` contains `p`): its bytes are zeros and it is never written to disk.
    public let isPadding: Bool

    public init(path: [String], length: Int64, offset: Int64, isPadding: Bool = false) {
        self.path = path
        self.length = length
        self.offset = offset
        self.isPadding = isPadding
    }
}

/// A run of bytes that lies inside one file.
public struct FileSlice: Hashable, Sendable {
    public let fileIndex: Int
    public let offsetInFile: Int64
    public let length: Int64
}

/// Maps between pieces and file byte ranges.
public struct FileLayout: Hashable, Sendable {
    public let files: [FileEntry]
    public let pieceLength: Int
    public let totalLength: Int64

    public init(files: [FileEntry], pieceLength: Int) {
        self.files = files
        self.pieceLength = pieceLength
        self.totalLength = files.last.map { $0.offset + $0.length } ?? 0
    }

    /// Builds a layout from `(path, length)` pairs in torrent order.
    public init(sizes: [(path: [String], length: Int64, isPadding: Bool)], pieceLength: Int) {
        var offset: Int64 = 0
        var files: [FileEntry] = []
        files.reserveCapacity(sizes.count)
        for item in sizes {
            files.append(FileEntry(path: item.path, length: item.length, offset: offset, isPadding: item.isPadding))
            offset += item.length
        }
        self.init(files: files, pieceLength: pieceLength)
    }

    public var pieceCount: Int {
        Int((totalLength + Int64(pieceLength) - 1) / Int64(pieceLength))
    }

    /// Length of piece `index`; only the last piece may be shorter.
    public func length(ofPiece index: Int) -> Int {
        let start = Int64(index) * Int64(pieceLength)
        return Int(min(Int64(pieceLength), totalLength - start))
    }

    /// The file slices that make up the bytes `[start, start + length)` of the torrent.
    public func slices(from start: Int64, length: Int64) -> [FileSlice] {
        precondition(start >= 0 && length >= 0 && start + length <= totalLength, "range outside the torrent")
        var out: [FileSlice] = []
        var position = start
        let end = start + length
        var index = firstFile(containing: position)
        while position < end, index < files.count {
            let file = files[index]
            let fileEnd = file.offset + file.length
            if fileEnd > position {
                let take = min(end, fileEnd) - position
                out.append(FileSlice(fileIndex: index, offsetInFile: position - file.offset, length: take))
                position += take
            }
            index += 1
        }
        return out
    }

    /// The file slices of piece `index`.
    public func slices(ofPiece index: Int) -> [FileSlice] {
        slices(from: Int64(index) * Int64(pieceLength), length: Int64(length(ofPiece: index)))
    }

    /// The range of pieces that hold bytes of file `index` (empty for empty files).
    public func pieces(ofFile index: Int) -> Range<Int> {
        let file = files[index]
        guard file.length > 0 else { return 0..<0 }
        let first = Int(file.offset / Int64(pieceLength))
        let last = Int((file.offset + file.length - 1) / Int64(pieceLength))
        return first..<(last + 1)
    }

    /// Binary search for the first file whose end lies beyond `position`.
    private func firstFile(containing position: Int64) -> Int {
        var low = 0, high = files.count
        while low < high {
            let mid = (low + high) / 2
            if files[mid].offset + files[mid].length <= position { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
