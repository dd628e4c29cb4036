import Foundation
import Testing
import TestSupport

/// The web UI in a real browser: Debian's headless Chromium driven by selenium
/// (scripts/remote/webui_browser.py) adds a local seed's magnet link, watches it reach 100 %,
/// opens its detail view, removes it with its data, then publishes a folder.
@Suite(.serialized) struct WebUIBrowserTests {
    @Test(.timeLimit(.minutes(4)))
    func addWatchRemoveAndPublishInHeadlessChromium() async throws {
        let harness = try await RemoteControlHarness.start()
        let shared = harness.downloads + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try Data("published from the web UI\n".utf8).write(to: URL(fileURLWithPath: shared + "/note.txt"))
        let script = Paths.repoRoot.appendingPathComponent("scripts/remote/webui_browser.py").path
        let result = try await ChildProcess.run(
            Paths.systemPython,
            [script, harness.url + "/", "--magnet", harness.magnet, "--hash", harness.infoHash, "--publish", "shared",
             "--timeout", "150"],
            timeout: 200)
        let published = await harness.session.list().filter(\.isPublished).map(\.name)
        await harness.stop()
        let events = JSONLines.objects(result.stdout)
        #expect(result.succeeded, "browser run failed: \(result.stdout.suffix(3000)) \(result.stderr.suffix(3000))")
        #expect(events.compactMap { $0["event"] as? String }
            == ["loaded", "listed", "complete", "detail", "removed", "published", "done"])
        #expect(!FileManager.default.fileExists(atPath: harness.downloads + "/" + harness.fileName),
                "removed with its data")
        #expect(published == ["shared"])
        let magnet = events.first { $0["event"] as? String == "published" }?["magnet"] as? String
        #expect(magnet?.hasPrefix("magnet:?xt=urn:btih:") == true)
    }
}
