import Foundation
import Testing
import TestSupport

/// BEP 11 between three `bitfountain` processes on 127.0.0.1, without a DHT:
/// a downloader given one peer finds the seed behind it through ut_pex.
@Suite(.serialized) struct PeerExchangeEndToEndTests {
    /// The 40 hex digits of a magnet link's infohash: a bare infohash carries no x.pe peers.
    static func infoHash(of magnet: String) -> String? {
        guard let range = magnet.range(of: "urn:btih:") else { return nil }
        return String(magnet[range.upperBound...].prefix(40))
    }

    @Test func aDownloaderGivenOnePeerFindsTheSeedBehindItThroughPEX() async throws {
        let work = try TemporaryDirectory("bf-pex")
        let content = try Swarm.writeRandomFile(work.file("shared.bin"), size: 4_000_000)
        // A slow seed, so the middle is still connected to it (two seeds part) when the newcomer comes.
        let seed = try await Swarm.startSeed([work.file("shared.bin")], state: work.file("seed-state"), extra: ["--upload-limit", "400K"])
        defer { seed.process.signal(SIGKILL) }
        let infoHash = try #require(Self.infoHash(of: seed.magnets[0]))
        // The middle knows the seed and passes on slowly, so the newcomer wants the seed too.
        let middle = try ChildProcess(Paths.binary, Swarm.getArguments(
            infoHash, output: work.file("middle"), state: work.file("middle-state"), peers: ["127.0.0.1:\(seed.port)"],
            extra: ["--seed-after", "--upload-limit", "200K"]))
        defer { middle.signal(SIGKILL) }
        let listening = try await middle.waitForLine(timeout: 30) { $0.contains("\"listening\"") }
        let middlePort = try #require(JSONLines.event("listening", in: listening)?["port"] as? Int)

        let newcomer = try await ChildProcess.run(
            Paths.binary, Swarm.getArguments(infoHash, output: work.file("newcomer"), state: work.file("newcomer-state"),
                                             peers: ["127.0.0.1:\(middlePort)"]),
            timeout: 90, environment: ["BITFOUNTAIN_DEBUG": "1"])
        #expect(newcomer.succeeded, "\(newcomer.stderr.suffix(2000))")
        #expect(FileManager.default.contents(atPath: work.file("newcomer/shared.bin")) == content)
        // Whichever side dials first wins: the seed learns of the newcomer through the middle's
        // PEX too and may dial it first, and then the newcomer, told the seed's listen port in
        // the handshake, does not dial it again. Either way the newcomer talks to a second peer,
        // the only one besides the middle is the seed, and only the middle's ut_pex told either
        // of them about the other (no DHT, one --peer each).
        let lines = newcomer.stderr.split(separator: "\n")
        let dialledSeed = newcomer.stderr.contains("dialling 127.0.0.1:\(seed.port)")
        let seedDialledIn = lines.contains { $0.contains("] connected from ") }
        #expect(dialledSeed || seedDialledIn, "the newcomer neither dialled the seed nor was dialled by it: \(newcomer.stderr.suffix(1500))")
        let connections = lines.filter { $0.contains("] connected to ") || $0.contains("] connected from ") }
        #expect(connections.count >= 2, "\(newcomer.stderr.suffix(1500))")
        middle.signal(SIGKILL)
        seed.process.signal(SIGKILL)
        _ = await middle.wait(timeout: 10)
        _ = await seed.process.wait(timeout: 10)
    }
}
