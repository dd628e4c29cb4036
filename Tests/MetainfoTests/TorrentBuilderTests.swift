import Bencode
import Crypto
import Foundation
import Testing
@testable import Metainfo

/// Writes `files` (relative path → bytes) under a new temporary directory.
private func makeContent(_ files: [String: [UInt8]]) throws -> URL {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("bf-build-\(UUID().uuidString.prefix(8))")
    for (path, bytes) in files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }
    return root
}

private func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

@Suite("TorrentBuilder")
struct TorrentBuilderTests {
    @Test("piece size: smallest power of two from 16 KiB to 16 MiB giving at most 2,000 pieces")
    func pieceSizeRule() {
        #expect(PieceSize.choose(forTotalLength: 1) == 16 << 10)
        #expect(PieceSize.choose(forTotalLength: 2000 * 16384) == 16 << 10)
        #expect(PieceSize.choose(forTotalLength: 2000 * 16384 + 1) == 32 << 10)
        #expect(PieceSize.choose(forTotalLength: 1 << 30) == 1 << 20)  // 1 GiB → 1,024 pieces
        #expect(PieceSize.choose(forTotalLength: 1 << 50) == 16 << 20)
        for shift in 25...34 {  // above 32 GiB the 16 MiB cap means more than 2,000 pieces
            let total = Int64(1) << shift + 12345
            let pieces = (total + Int64(PieceSize.choose(forTotalLength: total)) - 1) / Int64(PieceSize.choose(forTotalLength: total))
            #expect((1000...2000).contains(pieces), "\(total) bytes → \(pieces) pieces")
        }
    }

    @Test("single file: pieces hash the file, no announce, nodes listed")
    func singleFile() throws {
        let data = pattern(100_000, seed: 3)
        let root = try makeContent(["movie.bin": data])
        defer { try? FileManager.default.removeItem(at: root) }
        let nodes = [HostPort(host: "127.0.0.1", port: 6881)]
        let output = try TorrentBuilder(path: root.appendingPathComponent("movie.bin").path, pieceLength: 32768,
                                        nodes: nodes, creationDate: nil, threads: 3).build()
        let info = output.torrent.info
        #expect(info.name == "movie.bin")
        #expect(!info.isMultiFile)
        #expect(info.pieceCount == 4)
        for piece in 0..<4 {
            let chunk = data[(piece * 32768)..<min(data.count, (piece + 1) * 32768)]
            #expect(info.pieceHashes[piece] == Array(Insecure.SHA1.hash(data: Array(chunk))))
        }
        #expect(output.torrent.nodes == nodes)
        let root2 = try BencodeDecoder().decode(output.bytes)
        #expect(root2["announce"] == nil)
        #expect(root2["announce-list"] == nil)
        #expect(root2["creation date"] == nil)
    }

    @Test("directory: sorted paths, ignored names skipped, empty files kept, pieces span files")
    func directory() throws {
        let files: [String: [UInt8]] = [
            "b.bin": pattern(20000, seed: 1), "a/z.txt": pattern(5, seed: 2), "a/empty": [],
            "ü/日本.txt": pattern(7000, seed: 4),
            ".git/config": [1], "CVS/Entries": [1], "core": [1], "Thumbs.db": [1], "a/desktop.ini": [1], "a/.DS_Store": [1],
        ]
        let root = try makeContent(files)
        defer { try? FileManager.default.removeItem(at: root) }
        let output = try TorrentBuilder(path: root.path, pieceLength: 16384, creationDate: nil).build()
        let info = output.torrent.info
        #expect(info.isMultiFile)
        #expect(info.files.map { $0.path.joined(separator: "/") } == ["a/empty", "a/z.txt", "b.bin", "ü/日本.txt"])
        let all = [UInt8]() + files["a/z.txt"]! + files["b.bin"]! + files["ü/日本.txt"]!
        #expect(info.totalLength == Int64(all.count))
        for piece in 0..<info.pieceCount {
            let chunk = all[(piece * 16384)..<min(all.count, (piece + 1) * 16384)]
            #expect(info.pieceHashes[piece] == Array(Insecure.SHA1.hash(data: Array(chunk))))
        }
        #expect(output.torrent.nodes == DefaultBootstrap.nodes)
    }

    @Test("many pieces across files: the sixteen-at-once path hashes exactly like the one-by-one path")
    func manyPieces() throws {
        // 36 full pieces and a short one, spread over files that cut pieces anywhere.
        let files: [String: [UInt8]] = ["a": pattern(100_001, seed: 5), "b": pattern(500_000, seed: 6), "c": pattern(9, seed: 7)]
        let root = try makeContent(files)
        defer { try? FileManager.default.removeItem(at: root) }
        let info = try TorrentBuilder(path: root.path, pieceLength: 16384, creationDate: nil, threads: 2).build().torrent.info
        let all = files["a"]! + files["b"]! + files["c"]!
        #expect(info.pieceCount == 37)
        for piece in 0..<info.pieceCount {
            let chunk = all[(piece * 16384)..<min(all.count, (piece + 1) * 16384)]
            #expect(info.pieceHashes[piece] == Array(Insecure.SHA1.hash(data: Array(chunk))), "piece \(piece)")
        }
    }

    @Test("content of an exact multiple of the piece size has no short last piece")
    func exactMultiple() throws {
        let root = try makeContent(["x": pattern(65536, seed: 9)])
        defer { try? FileManager.default.removeItem(at: root) }
        let info = try TorrentBuilder(path: root.appendingPathComponent("x").path, pieceLength: 16384).build().torrent.info
        #expect(info.pieceCount == 4)
        #expect(info.layout.length(ofPiece: 3) == 16384)
    }

    @Test("empty content is refused with a clear error")
    func emptyContent() throws {
        let root = try makeContent(["a/empty": [], ".hidden": [1, 2, 3]])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: MetainfoError.emptyContent(root.path)) { try TorrentBuilder(path: root.path).build() }
        #expect(throws: MetainfoError.emptyContent(root.appendingPathComponent("a/empty").path)) {
            try TorrentBuilder(path: root.appendingPathComponent("a/empty").path).build()
        }
    }

    @Test("bad piece sizes and missing paths are refused")
    func badInput() {
        #expect(throws: MetainfoError.self) { try TorrentBuilder(path: "/nonexistent/bf", pieceLength: 16384).build() }
        for size in [1000, 8192, 24576, 32 << 20] {
            #expect(throws: MetainfoError.self) { try TorrentBuilder(path: "/tmp", pieceLength: size).build() }
        }
    }
}

@Suite("AtomicFile")
struct AtomicFileTests {
    @Test("never overwrites without permission, and leaves no temporary files")
    func noClobber() throws {
        let dir = try makeContent(["existing": [1, 2, 3]])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("existing").path
        #expect(throws: AtomicFile.Failure.exists(path)) { try AtomicFile.write([9], to: path, overwrite: false) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))
        try AtomicFile.write([9, 9], to: path, overwrite: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([9, 9]))
        let fresh = dir.appendingPathComponent("fresh").path
        try AtomicFile.write([7], to: fresh, overwrite: false, mode: 0o600)
        let attributes = try FileManager.default.attributesOfItem(atPath: fresh)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["existing", "fresh"])
    }

    @Test("a write into a missing directory fails cleanly")
    func missingDirectory() {
        #expect(throws: AtomicFile.Failure.self) { try AtomicFile.write([1], to: "/nonexistent-bf/x", overwrite: true) }
    }
}
