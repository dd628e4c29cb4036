import Metainfo

/// What users paste and load: magnet links and .torrent files.
enum MetainfoTarget {
    /// A parsed link prints to a canonical URI that parses back to the same link.
    @Sendable static func magnet(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self), let link = try? MagnetLink(parsing: text) else { return }
        let uri = link.uri
        guard let again = try? MagnetLink(parsing: uri) else {
            require(false, "canonical URI \(uri) does not parse")
            return
        }
        require(again == link, "magnet link changed through \(uri)")
        require(again.uri == uri, "canonical URI is not stable")
    }

    /// A .torrent file, or (first byte odd) a bare info dictionary as peers send
    /// it: anything accepted has only safe paths and a consistent layout.
    @Sendable static func torrent(_ bytes: [UInt8]) {
        let info: TorrentInfo
        if bytes.first.map({ $0 & 1 == 1 }) ?? false {
            guard let parsed = try? TorrentInfo(rawBytes: Array(bytes.dropFirst())) else { return }
            info = parsed
        } else {
            guard let torrent = try? Torrent(bytes: bytes) else { return }
            info = torrent.info
        }
        require(info.rawBytes.count <= bytes.count, "info larger than the input")
        require((try? SafePath.validate([info.name])) != nil, "unsafe name \(info.name)")
        checkLayout(info.layout, pieceCount: info.pieceCount)
        for file in info.files where !file.isPadding {
            require((try? SafePath.validate(file.path)) != nil, "unsafe path \(file.path)")
        }
    }

    private static func checkLayout(_ layout: FileLayout, pieceCount: Int) {
        var offset: Int64 = 0
        for file in layout.files {
            require(file.length >= 0 && file.offset == offset, "file at \(file.offset), expected \(offset)")
            offset += file.length
        }
        require(offset == layout.totalLength, "total \(layout.totalLength), files add up to \(offset)")
        require(layout.pieceCount == pieceCount, "\(pieceCount) hashes for \(layout.pieceCount) pieces")
        let head = min(pieceCount, 32)
        let pieces = Array(0..<head) + Array(max(head, pieceCount - 32)..<pieceCount)
        for piece in pieces {
            let length = layout.length(ofPiece: piece)
            require(length > 0 && length <= layout.pieceLength, "piece \(piece) of \(length) bytes")
            let slices = layout.slices(ofPiece: piece)
            require(slices.reduce(0) { $0 + $1.length } == Int64(length), "slices of piece \(piece) do not add up")
            for slice in slices {
                let file = layout.files[slice.fileIndex]
                require(slice.offsetInFile >= 0 && slice.offsetInFile + slice.length <= file.length, "slice outside its file")
            }
        }
    }
}
