import Bencode
import Crypto
import Foundation
import Metainfo
import Testing
import TestSupport

/// Downloads with misbehaving peers in the swarm (scripts/interop/lt_swarm_hostile_peer.py).
@Suite(.serialized) struct SwarmHostilePeerTests {
    @Test func downloadCompletesDespiteGarbageOversizedSilentAndLyingPeers() async throws {
        let work = try TemporaryDirectory("bf-hostile")
        let content = try Swarm.writeRandomFile(work.file("data.bin"), size: 4_000_000)
        let created = try await ChildProcess.bitfountain(["create", work.file("data.bin"), "--node", "127.0.0.1:9", "--piece-size", "64K"])
        #expect(created.succeeded)
        // The honest seed is slowed down so the liar gets to send whole pieces.
        let seed = try await Swarm.startSeed([work.file("data.bin")], state: work.file("seed-state"), extra: ["--upload-limit", "2M"])
        var hostile: [ChildProcess] = []
        var peers = ["127.0.0.1:\(seed.port)"]
        for mode in ["garbage", "oversized", "silent", "wrong-data"] {
            let (process, port) = try await Swarm.hostilePeer(mode)
            hostile.append(process)
            peers.append("127.0.0.1:\(port)")
        }
        let result = try await Swarm.get(work.file("data.bin.torrent"), output: work.file("out"), state: work.file("state"), peers: peers)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/data.bin")) == content)
        let bans = JSONLines.objects(result.stdout).filter { $0["event"] as? String == "peer_banned" }
        #expect(bans.contains { ($0["peer"] as? String) == peers[4] }, "the peer that sent wrong data is banned: \(bans)")
        #expect((JSONLines.event("complete", in: result.stdout)?["hash_failures"] as? Int ?? 0) >= 2)
    }

    /// An info dictionary whose infohash is right but whose file path climbs out
    /// of the output directory: refused before any file or directory is created.
    @Test func metadataWithPathTraversalIsRejectedBeforeAnyFileIsCreated() async throws {
        let work = try TemporaryDirectory("bf-hostile")
        let evil = BValue.dict([
            "name": "innocent", "piece length": 16384, "pieces": .bytes([UInt8](repeating: 7, count: 20)),
            "files": .list([.dict(["length": 10, "path": .list(["..", "..", "escaped.txt"])])]),
        ]).encoded
        try Data(evil).write(to: URL(fileURLWithPath: work.file("evil.info")))
        let infoHash = Insecure.SHA1.hash(data: evil).map { String(format: "%02x", $0) }.joined()
        let (peer, port) = try await Swarm.hostilePeer("metadata", infoFile: work.file("evil.info"))
        defer { peer.signal(SIGKILL) }
        try FileManager.default.createDirectory(atPath: work.file("out/deep"), withIntermediateDirectories: true)
        let result = try await Swarm.get(infoHash, output: work.file("out/deep"), state: work.file("state"), peers: ["127.0.0.1:\(port)"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unsafe file path"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.file("out/deep")).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: work.file("escaped.txt")))
        #expect(!FileManager.default.fileExists(atPath: work.file("out/escaped.txt")))
    }

    @Test func metadataThatDoesNotHashToTheInfohashIsRefusedAndTheRealOneUsed() async throws {
        let work = try TemporaryDirectory("bf-hostile")
        let content = try Swarm.writeRandomFile(work.file("real.bin"), size: 500_000)
        let decoy = BValue.dict(["name": "decoy", "length": 16384, "piece length": 16384,
                                 "pieces": .bytes([UInt8](repeating: 1, count: 20))]).encoded
        try Data(decoy).write(to: URL(fileURLWithPath: work.file("decoy.info")))
        let (liar, liarPort) = try await Swarm.hostilePeer("metadata", infoFile: work.file("decoy.info"))
        defer { liar.signal(SIGKILL) }
        let seed = try await Swarm.startSeed([work.file("real.bin")], state: work.file("seed-state"))
        // The liar is listed first, so it is asked for the metadata first.
        let infoHash = try #require(seed.magnets.first.flatMap { $0.split(separator: ":").dropFirst(3).first }.map { String($0.prefix(40)) })
        let result = try await Swarm.get(infoHash, output: work.file("out"), state: work.file("state"),
                                         peers: ["127.0.0.1:\(liarPort)", "127.0.0.1:\(seed.port)"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: work.file("out/real.bin")) == content)
        #expect(!FileManager.default.fileExists(atPath: work.file("out/decoy")))
    }
}
