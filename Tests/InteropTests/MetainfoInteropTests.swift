import Foundation
import Testing
import TestSupport

/// A content tree for one interop case.
struct ContentCase: CustomTestStringConvertible, Sendable {
    let name: String
    /// Relative path → size; a trailing "/" would be a directory, not used here.
    let files: [String: Int]
    /// Publish this file alone (single-file torrent) instead of the whole directory.
    let single: String?
    let pieceSize: Int
    /// Names `bitfountain create` must leave out.
    let ignored: [String]

    var testDescription: String { name }
}

private let cases: [ContentCase] = [
    ContentCase(name: "single file", files: ["movie.bin": 1_000_003], single: "movie.bin", pieceSize: 65536, ignored: []),
    ContentCase(name: "nested directories", files: ["a/b/c/deep.bin": 70_000, "a/top.bin": 5, "z.bin": 40_000], single: nil, pieceSize: 16384, ignored: []),
    ContentCase(name: "empty files", files: ["data.bin": 50_000, "empty1": 0, "sub/empty2": 0], single: nil, pieceSize: 16384, ignored: []),
    ContentCase(name: "non-ASCII names", files: ["ü/日本語.txt": 30_000, "Ελληνικά/ñ.bin": 20_000, "emoji 🎉.bin": 100], single: nil, pieceSize: 16384, ignored: []),
    ContentCase(name: "exact multiple of the piece size", files: ["exact.bin": 4 * 32768], single: "exact.bin", pieceSize: 32768, ignored: []),
    ContentCase(name: "ignored names", files: ["keep.bin": 40_000, ".hidden": 10, "CVS/Entries": 10, "core": 10, "Thumbs.db": 10, "sub/desktop.ini": 10, "sub/keep2.bin": 20],
                single: nil, pieceSize: 16384, ignored: [".hidden", "CVS/Entries", "core", "Thumbs.db", "sub/desktop.ini"]),
]

private func materialize(_ content: ContentCase, in dir: TemporaryDirectory) throws -> String {
    let root = dir.url.appendingPathComponent("content")
    for (path, size) in content.files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var generator = path.utf8.reduce(UInt64(17)) { $0 &* 31 &+ UInt64($1) }
        let bytes = (0..<size).map { _ -> UInt8 in
            generator = generator &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: generator >> 56)
        }
        try Data(bytes).write(to: url)
    }
    return content.single.map { root.appendingPathComponent($0).path } ?? root.path
}

/// Normalizes libtorrent's and our file lists to sorted (path, size) pairs.
private func fileList(_ object: [String: Any], pathKey: String, sizeKey: String) -> [String] {
    ((object["files"] as? [[String: Any]]) ?? []).map { "\($0[pathKey] as? String ?? "?") \($0[sizeKey] as? Int ?? -1)" }.sorted()
}

@Suite("Metainfo interop with libtorrent", .serialized)
struct MetainfoInteropTests {
    @Test("torrents made by bitfountain create load in libtorrent unchanged", arguments: cases)
    func oursInLibtorrent(content: ContentCase) async throws {
        let dir = try TemporaryDirectory()
        let path = try materialize(content, in: dir)
        let torrent = dir.file("ours.torrent")
        let created = try await ChildProcess.bitfountain(["create", path, "-o", torrent, "--piece-size", "\(content.pieceSize)"])
        try #require(created.succeeded, "\(created.stderr)")
        let ours = try JSONLines.last(try await ChildProcess.bitfountain(["info", torrent, "--json"]).stdout)
        let theirs = try Libtorrent.json(try await Libtorrent.run("lt_torrent.py", ["load", torrent]))

        #expect(theirs["infohash"] as? String == ours["infohash"] as? String)
        #expect(theirs["num_pieces"] as? Int == ours["piece_count"] as? Int)
        #expect(theirs["piece_length"] as? Int == content.pieceSize)
        #expect(fileList(theirs, pathKey: "path", sizeKey: "size") == fileList(ours, pathKey: "path", sizeKey: "length"))
        let expectedCount = content.single == nil ? content.files.count - content.ignored.count : 1
        #expect(fileList(ours, pathKey: "path", sizeKey: "length").count == expectedCount)
        for name in content.ignored {
            #expect(!fileList(ours, pathKey: "path", sizeKey: "length").contains { $0.hasPrefix("content/\(name) ") })
        }
    }

    @Test("torrents made by libtorrent (v1 and hybrid) load in bitfountain with the same infohash", arguments: cases.filter { $0.ignored.isEmpty })
    func libtorrentsInOurs(content: ContentCase) async throws {
        for mode in ["v1", "hybrid"] {
            let dir = try TemporaryDirectory()
            let path = try materialize(content, in: dir)
            let torrent = dir.file("lt-\(mode).torrent")
            let made = try await Libtorrent.run("lt_torrent.py", ["create", path, torrent, "\(content.pieceSize)", mode])
            try #require(made.succeeded, "\(made.stderr)")
            let theirs = try Libtorrent.json(try await Libtorrent.run("lt_torrent.py", ["load", torrent]))
            let info = try await ChildProcess.bitfountain(["info", torrent, "--json"])
            try #require(info.succeeded, "\(mode): \(info.stderr)")
            let ours = try JSONLines.last(info.stdout)
            #expect(ours["infohash"] as? String == theirs["infohash"] as? String, "\(mode)")
            #expect(ours["piece_count"] as? Int == theirs["num_pieces"] as? Int, "\(mode)")
            #expect(ours["total_length"] as? Int == theirs["total_size"] as? Int, "\(mode)")
            #expect(fileList(ours, pathKey: "path", sizeKey: "length") == fileList(theirs, pathKey: "path", sizeKey: "size"), "\(mode)")
        }
    }
}

