import Foundation
import Testing
import TestSupport

/// The main job, as scripts/demo runs it, with BitFountain alone: a router
/// bootstraps a small DHT, two seeds announce a torrent there, and a
/// downloader given nothing but the bare infohash and the router's address
/// finds them, fetches the metadata and downloads every verified piece.
@Suite(.serialized) struct MainJobEndToEndTests {
    @Test func publishAndDownloadByMagnetThroughARouterBootstrappedDHT() async throws {
        let work = try TemporaryDirectory("bf-main-job")
        let router = try ChildProcess(Paths.binary, ["router", "--bind", "127.0.0.1", "--port", "0", "--allow-private",
                                                     "--admit-delay", "1", "--state-dir", work.file("router"), "--json"])
        defer { router.signal(SIGKILL) }
        let routerPort = try #require(JSONLines.last(try await router.waitForLine(timeout: 30) { $0.contains("\"listening\"") })["port"] as? Int)
        let bootstrap = ["--bootstrap", "127.0.0.1:\(routerPort)"]
        var nodes: [ChildProcess] = []
        defer { for node in nodes { node.signal(SIGKILL) } }
        for index in 0..<2 {
            let node = try ChildProcess(Paths.binary, ["node", "--bind", "127.0.0.1", "--port", "0", "--json",
                                                       "--state-dir", work.file("node\(index)")] + bootstrap)
            _ = try await node.waitForLine(timeout: 30) { $0.contains("\"listening\"") }
            nodes.append(node)
        }

        try FileManager.default.createDirectory(atPath: work.file("a"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work.file("b"), withIntermediateDirectories: true)
        let content = try Swarm.writeRandomFile(work.file("a/sample.bin"), size: 6_000_000)
        try content.write(to: URL(fileURLWithPath: work.file("b/sample.bin")))
        let created = try await ChildProcess.bitfountain(["create", work.file("a/sample.bin"), "--node", "127.0.0.1:\(routerPort)", "--json"])
        try #require(created.succeeded, "\(created.stderr)")
        let infoHash = try #require(JSONLines.last(created.stdout)["infohash"] as? String)
        try FileManager.default.copyItem(atPath: work.file("a/sample.bin.torrent"), toPath: work.file("b/sample.bin.torrent"))
        let seedA = try await Swarm.startSeed([work.file("a/sample.bin")], state: work.file("state-a"), extra: bootstrap + ["--upload-limit", "4M"])
        defer { seedA.process.signal(SIGKILL) }
        let seedB = try await Swarm.startSeed([work.file("b/sample.bin")], state: work.file("state-b"), extra: bootstrap + ["--upload-limit", "4M"])
        defer { seedB.process.signal(SIGKILL) }
        // A lookup only finds the seeds whose announce has landed; the downloader
        // would look again only minutes later, after the file is long done.
        for seed in [seedA, seedB] {
            let announced = try await seed.process.waitForLine(timeout: 30) { $0.contains("\"announced\"") }
            #expect(JSONLines.event("announced", in: announced)?["nodes"] as? Int ?? 0 > 0)
        }

        // No x.pe, no --peer: only the DHT can say where the seeds are.
        let result = try await Swarm.get(infoHash, output: work.file("out"), state: work.file("state-get"), extra: bootstrap)
        #expect(result.succeeded, "\(result.stderr.suffix(2000))")
        #expect(FileManager.default.contents(atPath: work.file("out/sample.bin")) == content)
        let complete = try #require(JSONLines.event("complete", in: result.stdout))
        #expect(complete["peers"] as? Int == 2, "both seeds were found on the DHT and delivered")
        #expect(JSONLines.event("metadata", in: result.stdout) != nil)
    }
}
