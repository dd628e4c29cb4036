import Foundation
import Testing
import TestSupport

/// The qBittorrent dialect as Sonarr and Radarr use it, driven by the PyPI client
/// qbittorrent-api (scripts/remote/qbittorrent_arr_calls.py) against a node on 127.0.0.1 that
/// downloads a real torrent from a local seed.
@Suite(.serialized) struct QBittorrentClientTests {
    @Test(.timeLimit(.minutes(4)))
    func arrCallsThroughQbittorrentAPI() async throws {
        let harness = try await RemoteControlHarness.start()
        let script = Paths.repoRoot.appendingPathComponent("scripts/remote/qbittorrent_arr_calls.py").path
        let result = try await ChildProcess.run(
            Paths.systemPython,
            [script, harness.url, "--magnet", harness.magnet, "--hash", harness.infoHash, "--save", harness.downloads,
             "--expect-file", "\(harness.fileName):\(harness.fileSize)", "--timeout", "150"],
            timeout: 180)
        await harness.stop()
        let events = JSONLines.objects(result.stdout).compactMap { $0["event"] as? String }
        #expect(result.succeeded, "qbittorrent-api run failed: \(result.stdout.suffix(3000)) \(result.stderr.suffix(3000))")
        #expect(events == ["logged-in", "versions", "preferences", "categories", "added", "complete", "properties",
                           "recategorised", "paused-and-resumed", "sync", "limits", "sources-and-export", "deleted", "done"])
        // Deleted with its files: nothing of the download is left in the root.
        #expect(!FileManager.default.fileExists(atPath: harness.downloads + "/" + harness.fileName))
    }
}
