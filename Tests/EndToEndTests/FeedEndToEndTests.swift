import Foundation
import Testing
import TestSupport

/// BEP 46 feeds through the command line on 127.0.0.1: a publisher puts
/// version 1, a follower gets it, the publisher puts version 2, and the
/// follower (--follow) gets version 2 into its own folder. Then the failure
/// cases: a feed nobody published, and a feed whose torrent nobody serves.
@Suite(.serialized) struct FeedEndToEndTests {
    static func write(_ path: String, size: Int, byte: UInt8) throws {
        var bytes = [UInt8](repeating: byte, count: size)
        for index in stride(from: 0, to: size, by: 97) { bytes[index] = UInt8(truncatingIfNeeded: index / 97) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func line(_ child: ChildProcess, _ event: String, timeout: Double,
                     where match: @escaping ([String: Any]) -> Bool = { _ in true }) async throws -> [String: Any] {
        let line = try await child.waitForLine(timeout: timeout) { line in
            guard let object = try? JSONLines.last(line), object["event"] as? String == event else { return false }
            return match(object)
        }
        return try JSONLines.last(line)
    }

    @Test func aFollowerGetsEachNewVersionOfAFeed() async throws {
        let work = try TemporaryDirectory("bf-feed")
        var nodes: [DHTNodeProcess] = []
        let first = try await DHTNodeProcess.start(stateDirectory: work.file("n0"), bootstrap: [])
        nodes.append(first)
        for index in 1..<4 {
            nodes.append(try await DHTNodeProcess.start(stateDirectory: work.file("n\(index)"), bootstrap: [first.address]))
        }
        defer { for node in nodes { node.child.signal(SIGKILL) } }
        let bootstrap = nodes.flatMap { ["--bootstrap", $0.address] }
        let common = ["--bind", "127.0.0.1", "--port", "0", "--json"] + bootstrap

        let publisherState = work.file("publisher")
        let key = try await ChildProcess.bitfountain(["key", "new", "releases", "--state-dir", publisherState, "--json"])
        #expect(key.succeeded, "stderr: \(key.stderr)")
        let again = try await ChildProcess.bitfountain(["key", "new", "releases", "--state-dir", publisherState])
        #expect(!again.succeeded && again.stderr.contains("never overwritten"))
        let keyFile = publisherState + "/keys/releases.key"
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let content = work.file("release.bin")
        try Self.write(content, size: 400_000, byte: 1)
        let publish = ["publish", content, "--key", "releases", "--salt", "stable", "--state-dir", publisherState] + common
        var publisher = try ChildProcess(Paths.binary, publish)
        let v1 = try await Self.line(publisher, "published", timeout: 60)
        let link = v1["feed"] as? String ?? ""
        #expect(link.hasPrefix("magnet:?xs=urn:btpk:") && link.hasSuffix("&s=" + "stable".utf8.map { String(format: "%02x", $0) }.joined()))
        #expect(v1["seq"] as? Int == 1)

        let output = work.file("downloads")
        let follower = try ChildProcess(Paths.binary, ["get", link, "--follow", "--follow-interval", "1", "-o", output,
                                                        "--state-dir", work.file("follower")] + common)
        defer { follower.signal(SIGKILL) }
        let got1 = try await Self.line(follower, "complete", timeout: 90)
        #expect(got1["path"] as? String == output + "/v1/release.bin")
        #expect(FileManager.default.contents(atPath: output + "/v1/release.bin") == FileManager.default.contents(atPath: content))

        // Version 2: new content, the same key and salt.
        publisher.signal(SIGTERM)
        _ = await publisher.wait(timeout: 20)
        try Self.write(content, size: 450_000, byte: 2)
        let started = Date()
        publisher = try ChildProcess(Paths.binary, publish)
        defer { publisher.signal(SIGKILL) }
        let v2 = try await Self.line(publisher, "published", timeout: 60)
        #expect(v2["seq"] as? Int == 2)
        #expect(v2["feed"] as? String == link)
        #expect(v2["infohash"] as? String != v1["infohash"] as? String)
        let metadata = try await Self.line(follower, "metadata", timeout: 90) { $0["infohash"] as? String == v2["infohash"] as? String }
        print("feed: version 2 published to follower metadata in \(String(format: "%.2f", Date().timeIntervalSince(started))) s (\(nodes.count) DHT nodes, follow interval 1 s)")
        #expect(metadata["bytes"] as? Int == 450_000)
        let got2 = try await Self.line(follower, "complete", timeout: 90) { ($0["path"] as? String ?? "").contains("/v2/") }
        #expect(FileManager.default.contents(atPath: got2["path"] as? String ?? "") == FileManager.default.contents(atPath: content))
        // Version 1 is still there, untouched.
        #expect(FileManager.default.contents(atPath: output + "/v1/release.bin")?.count == 400_000)

        follower.signal(SIGTERM)
        #expect(await follower.wait(timeout: 20).status == 0)
        publisher.signal(SIGTERM)
        #expect(await publisher.wait(timeout: 20).status == 0)

        // Nobody serves the torrent any more: a clear error once --timeout passes, not a hang.
        let orphan = try await ChildProcess.bitfountain(["get", link, "-o", work.file("orphan"), "--timeout", "5",
                                                         "--state-dir", work.file("orphan-state")] + common, timeout: 60)
        #expect(!orphan.succeeded)
        #expect(orphan.stderr.contains("no peer sent its metadata"), "stderr: \(orphan.stderr)")

        // A key nobody published under.
        let nobody = "magnet:?xs=urn:btpk:" + String(repeating: "ab", count: 32)
        let missing = try await ChildProcess.bitfountain(["get", nobody, "-o", work.file("none"), "--state-dir",
                                                          work.file("none-state")] + common, timeout: 60)
        #expect(!missing.succeeded)
        #expect(missing.stderr.contains("no DHT node has a valid item"), "stderr: \(missing.stderr)")

        // Malformed links and oversized input are refused before any network use.
        let badKey = try await ChildProcess.bitfountain(["get", "magnet:?xs=urn:btpk:1234", "--bind", "127.0.0.1", "--no-dht"])
        #expect(!badKey.succeeded && badKey.stderr.contains("64-hex-digit"))
        let longSalt = try await ChildProcess.bitfountain(["publish", content, "--key", "releases", "--salt",
                                                           String(repeating: "s", count: 65), "--state-dir", publisherState] + common)
        #expect(!longSalt.succeeded && longSalt.stderr.contains("--salt"))
        let bigValue = try await ChildProcess.bitfountain(["dht", "put", String(repeating: "x", count: 1_000),
                                                           "--bind", "127.0.0.1"] + bootstrap)
        #expect(!bigValue.succeeded && bigValue.stderr.contains("1000"))
    }
}
