import Foundation
import Testing
import TestSupport

/// `bitfountain daemon`'s --download-limit beside --upload-limit, and its reading of the
/// session's events: each one logged through swift-log and counted in /metrics.
@Suite(.serialized) struct DaemonLimitsAndEventsTests {
    @Test(.timeLimit(.minutes(3)))
    func rateFlagsReachTheSessionAndEventsAreLoggedAndCounted() async throws {
        let work = try TemporaryDirectory("bf-daemon-events")
        let downloads = work.file("downloads")
        try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: true)
        // Its data already where the daemon saves to: it is complete as soon as it is checked.
        let torrent = try await Payload.torrent(in: work, name: "done.bin", size: 100_000, contentIn: downloads)
        let daemon = try await DaemonProcess(work: work, extra: ["--download-limit", "2M", "--upload-limit", "500K/s"])
        defer { daemon.process.signal(SIGKILL) }

        // Transmission speaks kB/s of 1000 bytes: 2 MiB/s is 2097, 500 KiB/s is 512.
        let reply = try await daemon.rpc(#"{"method":"session-get","arguments":{"fields":["speed-limit-down","speed-limit-down-enabled","speed-limit-up","speed-limit-up-enabled"]}}"#)
        let arguments = try #require(reply["arguments"] as? [String: Any])
        #expect(arguments["speed-limit-down"] as? Int == 2097 && arguments["speed-limit-down-enabled"] as? Bool == true, "\(arguments)")
        #expect(arguments["speed-limit-up"] as? Int == 512 && arguments["speed-limit-up-enabled"] as? Bool == true, "\(arguments)")

        #expect(try await daemon.remote(["-a", torrent]).stdout.contains("success"))
        _ = try await daemon.waitForTorrents(timeout: 60, "done.bin seeding") { list in
            list.contains { $0.name == "done.bin" && $0.status == 6 }
        }
        let logged = try await Waiting.poll(timeout: 30) { () -> String? in
            let stderr = daemon.process.stderr
            return stderr.contains("torrent completed") ? stderr : nil
        }
        let log = try #require(logged, "no 'torrent completed' line: \(daemon.process.stderr.suffix(2000))")
        #expect(log.contains("info") && log.contains("torrent added") && log.contains("name=done.bin"), "\(log.suffix(2000))")

        let metrics = try await ChildProcess.run("/usr/bin/curl", ["-s", "-f", "http://\(daemon.endpoint)/metrics"], timeout: 30)
        #expect(metrics.stdout.contains("bitfountain_torrents_added_total 1"), "\(metrics.stdout.prefix(3000))")
        #expect(metrics.stdout.contains("bitfountain_torrents_completed_total 1"), "\(metrics.stdout.prefix(3000))")

        daemon.process.signal(SIGTERM)
        let exit = await daemon.process.wait(timeout: 30)
        #expect(exit.status == 0 && !exit.timedOut, "\(exit.stderr.suffix(1500))")
    }

    @Test func aDownloadLimitThatIsNotARateIsRefused() async throws {
        let work = try TemporaryDirectory("bf-daemon-flags")
        let result = try await ChildProcess.bitfountain(["daemon", "--download-limit", "fast", "--state-dir", work.file("state"),
                                                         "--bind", "127.0.0.1", "--no-dht", "--rpc-port", "0"])
        #expect(!result.succeeded)
        #expect(result.stderr.contains("--download-limit: 'fast' is not a rate"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.file("state")), "a refused start wrote state")
    }
}
