import Foundation
import Testing
import TestSupport


@Suite("bitfountain create / info")
struct CreateInfoCLITests {
    @Test("create writes a torrent, prints the magnet link, and info reads it back")
    func createThenInfo() async throws {
        let dir = try TemporaryDirectory()
        let content = dir.file("talk.mp4")
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: content))

        let created = try await ChildProcess.bitfountain(["create", content, "--node", "127.0.0.1:6881", "--comment", "hello"])
        #expect(created.succeeded, "\(created.stderr)")
        let magnet = try #require(created.stdout.split(separator: "\n").last.map(String.init))
        #expect(magnet.hasPrefix("magnet:?xt=urn:btih:"))
        #expect(magnet.contains("&dn=talk.mp4"))

        let info = try await ChildProcess.bitfountain(["info", content + ".torrent", "--json"])
        #expect(info.succeeded, "\(info.stderr)")
        let object = try JSONLines.last(info.stdout)
        #expect(object["magnet"] as? String == magnet)
        #expect(object["total_length"] as? Int == 300_000)
        #expect(object["nodes"] as? [String] == ["127.0.0.1:6881"])
        #expect(object["comment"] as? String == "hello")
        #expect(object["trackers"] as? [String] == [])
        let infohash = try #require(object["infohash"] as? String)

        let human = try await ChildProcess.bitfountain(["info", content + ".torrent"])
        #expect(human.stdout.contains("infohash    \(infohash)"))

        let fromMagnet = try await ChildProcess.bitfountain(["info", magnet, "--json"])
        #expect(try JSONLines.last(fromMagnet.stdout)["infohash"] as? String == infohash)
        let fromHash = try await ChildProcess.bitfountain(["info", infohash.uppercased(), "--json"])
        #expect(try JSONLines.last(fromHash.stdout)["infohash"] as? String == infohash)
    }

    @Test("create refuses to overwrite without --force and leaves the old file intact")
    func noOverwrite() async throws {
        let dir = try TemporaryDirectory()
        let content = dir.file("a.bin")
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: content))
        let output = dir.file("out.torrent")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: output))

        let refused = try await ChildProcess.bitfountain(["create", content, "-o", output])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("already exists"))
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "precious")

        let forced = try await ChildProcess.bitfountain(["create", content, "-o", output, "--force", "--json"])
        #expect(forced.succeeded, "\(forced.stderr)")
        #expect(try JSONLines.last(forced.stdout)["piece_count"] as? Int == 1)
        // Nothing but the content and the torrent: no temporary file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.bin", "out.torrent"])
    }

    @Test("clear errors: empty content, bad piece size, missing path, corrupt torrent, bad magnet")
    func errors() async throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("empty"), withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: dir.file("empty/zero")))
        try Data("d4:infod4:name1:xee".utf8).write(to: URL(fileURLWithPath: dir.file("bad.torrent")))
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: dir.file("ten")))

        let cases: [([String], String)] = [
            (["create", dir.file("empty")], "nothing to publish"),
            (["create", dir.file("ten"), "--piece-size", "1000"], "power of two"),
            (["create", dir.file("ten"), "--piece-size", "lots"], "not a size"),
            (["create", dir.file("ten"), "--node", "nohost"], "HOST:PORT"),
            (["create", dir.file("missing")], "No such file"),
            (["info", dir.file("bad.torrent")], "missing 'piece length'"),
            (["info", dir.file("missing.torrent")], "no such file"),
            (["info", "magnet:?xt=urn:btih:xyz"], "infohash"),
        ]
        for (arguments, fragment) in cases {
            let result = try await ChildProcess.bitfountain(arguments)
            #expect(result.status != 0, "\(arguments) should fail")
            #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("empty.torrent")))
    }

    @Test("every command answers --help")
    func help() async throws {
        for command in [["--help"], ["create", "--help"], ["info", "--help"]] {
            let result = try await ChildProcess.bitfountain(command)
            #expect(result.succeeded)
            #expect(result.stdout.contains("USAGE"))
        }
    }
}
