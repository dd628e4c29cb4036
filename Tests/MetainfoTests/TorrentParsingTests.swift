import Bencode
import Crypto
import Testing
@testable import Metainfo

/// Builds a torrent's bytes with a given info dictionary.
private func torrentBytes(info: [String: BValue], extra: [String: BValue] = [:]) -> [UInt8] {
    var root = extra
    root["info"] = .dict(info)
    return BValue.dict(root).encoded
}

private let twoPieces = BValue.bytes([UInt8](repeating: 7, count: 40))

private func multiFile(_ files: [BValue]) -> [String: BValue] {
    ["name": "top", "piece length": 16384, "pieces": .bytes([UInt8](repeating: 0, count: 20)), "files": .list(files)]
}

private func file(_ path: [String], _ length: Int64 = 1) -> BValue {
    .dict(["length": .integer(length), "path": .list(path.map { .string($0) })])
}

@Suite("Torrent parsing")
struct TorrentParsingTests {
    @Test("single-file torrent: fields, infohash of the raw info bytes, trackerless nodes")
    func singleFile() throws {
        let info: [String: BValue] = ["name": "movie.mkv", "piece length": 16384, "length": 20000, "pieces": twoPieces]
        let bytes = torrentBytes(info: info, extra: ["nodes": .list([.list(["router.example", 6881]), .list(["bad", 0])]), "comment": "hi"])
        let torrent = try Torrent(bytes: bytes)
        #expect(torrent.info.name == "movie.mkv")
        #expect(torrent.info.pieceCount == 2)
        #expect(torrent.info.files == [FileEntry(path: ["movie.mkv"], length: 20000, offset: 0)])
        #expect(torrent.nodes == [HostPort(host: "router.example", port: 6881)])
        #expect(torrent.comment == "hi")
        #expect(torrent.trackers.isEmpty)
        #expect(torrent.infoHash.bytes == Array(Insecure.SHA1.hash(data: BValue.dict(info).encoded)))
    }

    @Test("the infohash comes from the info bytes as written, even when they are not canonical")
    func nonCanonicalInfo() throws {
        // Keys out of order: a re-encoding would sort them and change the hash.
        let infoText = "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA7:privatei0ee"
        let unsorted = "d4:name1:x6:lengthi5e12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA7:privatei0ee"
        let torrent = try Torrent(bytes: Array("d4:info\(unsorted)e".utf8))
        #expect(torrent.infoHash.bytes == Array(Insecure.SHA1.hash(data: Array(unsorted.utf8))))
        #expect(torrent.infoHash.bytes != Array(Insecure.SHA1.hash(data: Array(infoText.utf8))))
    }

    @Test("multi-file torrent with BEP 47 padding files")
    func multiFileWithPadding() throws {
        let files: [BValue] = [
            file(["a"], 10),
            .dict(["length": 16374, "path": .list([".pad", "16374"]), "attr": "p"]),
            file(["sub", "b"], 5),
        ]
        var info = multiFile(files)
        info["pieces"] = twoPieces
        let torrent = try Torrent(bytes: torrentBytes(info: info))
        #expect(torrent.info.isMultiFile)
        #expect(torrent.info.files.map(\.isPadding) == [false, true, false])
        #expect(torrent.info.files[2].offset == 16384)
    }

    @Test("malformed torrents are rejected with a clear reason", arguments: [
        (torrentBytes(info: ["piece length": 16384, "length": 1, "pieces": .bytes([UInt8](repeating: 0, count: 20))]), "missing 'name'"),
        (torrentBytes(info: ["name": "x", "piece length": 0, "length": 1, "pieces": .bytes([UInt8](repeating: 0, count: 20))]), "piece length"),
        (torrentBytes(info: ["name": "x", "piece length": 16384, "length": 1, "pieces": .bytes([UInt8](repeating: 0, count: 19))]), "multiple of 20"),
        (torrentBytes(info: ["name": "x", "piece length": 16384, "length": 20000, "pieces": .bytes([UInt8](repeating: 0, count: 20))]), "holds 1 hashes for 2 pieces"),
        (torrentBytes(info: ["name": "x", "piece length": 16384, "length": -1, "pieces": .bytes([])]), "negative"),
        (torrentBytes(info: ["name": "..", "piece length": 16384, "length": 1, "pieces": .bytes([UInt8](repeating: 0, count: 20))]), "unsafe file path"),
        (torrentBytes(info: ["name": "a/b", "piece length": 16384, "length": 1, "pieces": .bytes([UInt8](repeating: 0, count: 20))]), "unsafe file path"),
        (torrentBytes(info: multiFile([file(["..", "etc", "passwd"])])), "unsafe file path"),
        (torrentBytes(info: multiFile([file(["/etc/passwd"])])), "unsafe file path"),
        (torrentBytes(info: multiFile([file(["a", "", "b"])])), "unsafe file path"),
        (torrentBytes(info: multiFile([file(["a"]), file(["a"])])), "appears twice"),
        (torrentBytes(info: multiFile([file(["a"]), file(["a", "b"])])), "appears twice"),
        (torrentBytes(info: multiFile([file(["a", "b"]), file(["a"])])), "appears twice"),
        (torrentBytes(info: multiFile([])), "is empty"),
        (torrentBytes(info: multiFile([.integer(1)])), "list of dictionaries"),
        (Array("d4:infoi1ee".utf8), "should be a dictionary"),
        (Array("d4:infod4:name1:xe".utf8), "invalid bencode"),
        (Array("le".utf8), "should be a dictionary"),
        (Array("d3:foo3:bare".utf8), "missing 'info'"),
    ])
    func malformed(bytes: [UInt8], fragment: String) {
        do {
            _ = try Torrent(bytes: bytes)
            Issue.record("accepted a malformed torrent (expected: \(fragment))")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }
}
