import Foundation
import Testing
import TestSupport

/// Debian's transmission-remote 3.00 against a real `bitfountain daemon`
/// process on 127.0.0.1, with a `bitfountain seed` process as the swarm.
@Suite(.serialized) struct TransmissionRemoteTests {

    @Test(.timeLimit(.minutes(5)))
    func addDownloadInspectLimitAndRemoveWithData() async throws {
        let work = try TemporaryDirectory("bf-tr")
        let content = Array((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) })
        try Data(content).write(to: URL(fileURLWithPath: work.file("payload.bin")))
        let seed = try ChildProcess(Paths.binary, ["seed", work.file("payload.bin"), "--bind", "127.0.0.1", "--port", "0",
                                                  "--no-dht", "--no-lsd", "--no-port-mapping", "--json",
                                                  "--state-dir", work.file("seed-state")])
        defer { seed.signal(SIGKILL) }
        let seedLine = try await seed.waitForLine(timeout: 60) { $0.contains("\"seeding\"") }
        let seedPort = try #require(JSONLines.event("listening", in: seed.stdout)?["port"] as? Int)
        let magnet = try #require(JSONLines.event("seeding", in: seedLine)?["magnet"] as? String)

        let daemon = try await DaemonProcess(work: work)
        defer { daemon.process.signal(SIGKILL) }

        // -a with a magnet link that names the local seed (x.pe).
        let added = try await daemon.remote(["-a", magnet + "&x.pe=127.0.0.1:\(seedPort)"])
        #expect(added.succeeded, "\(added.stdout) \(added.stderr)")
        #expect(added.stdout.contains("success"))

        // -l until the torrent is complete (Done 100%).
        let listed = try await Waiting.pollAsync(timeout: 120, every: .milliseconds(300)) { () -> String? in
            let list = try await daemon.remote(["-l"])
            return list.stdout.contains("100%") ? list.stdout : nil
        }
        let list = try #require(listed, "the download never reached 100%")
        #expect(list.contains("payload.bin"))
        #expect(list.contains("Seeding") || list.contains("Idle"))
        let downloaded = daemon.downloadDir + "/payload.bin"
        #expect(FileManager.default.contents(atPath: downloaded).map(Array.init) == content)

        // -t 1 -i: the detail view.
        let info = try await daemon.remote(["-t", "1", "-i"])
        #expect(info.stdout.contains("Name: payload.bin"))
        #expect(info.stdout.contains("Percent Done: 100%"))
        #expect(info.stdout.lowercased().contains("magnet"))

        // -S stops, -s starts again.
        #expect(try await daemon.remote(["-t", "1", "-S"]).stdout.contains("success"))
        let stopped = try await daemon.remote(["-l"])
        #expect(stopped.stdout.contains("Stopped"), "\(stopped.stdout)")
        #expect(try await daemon.remote(["-t", "1", "-s"]).stdout.contains("success"))

        // -d / -u: the session limits, read back through -si.
        #expect(try await daemon.remote(["-d", "300"]).stdout.contains("success"))
        #expect(try await daemon.remote(["-u", "200"]).stdout.contains("success"))
        let sessionInfo = try await daemon.remote(["-si"])
        #expect(sessionInfo.stdout.contains("300"), "\(sessionInfo.stdout)")
        #expect(sessionInfo.stdout.contains("200"), "\(sessionInfo.stdout)")
        #expect(try await daemon.remote(["-t", "1", "-d", "50"]).stdout.contains("success"))

        // -st: the statistics.
        let stats = try await daemon.remote(["-st"])
        #expect(stats.succeeded && stats.stdout.contains("CURRENT SESSION"), "\(stats.stdout)")

        // --remove-and-delete: the data is gone too.
        #expect(try await daemon.remote(["-t", "1", "--remove-and-delete"]).stdout.contains("success"))
        let gone = try await Waiting.poll(timeout: 30) { FileManager.default.fileExists(atPath: downloaded) ? nil : true }
        #expect(gone == true, "payload.bin is still in the download dir")
        #expect(try await daemon.remote(["-l"]).stdout.contains("payload.bin") == false)
    }

    @Test(.timeLimit(.minutes(3)))
    func addTorrentFileFindItsDataThenRemoveKeepingData() async throws {
        let work = try TemporaryDirectory("bf-tr")
        try Data((0..<100_000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: work.file("small.bin")))
        let created = try await ChildProcess.bitfountain(["create", work.file("small.bin"), "-o", work.file("small.torrent"),
                                                          "--piece-size", "16K"])
        #expect(created.succeeded, "\(created.stderr)")
        let daemon = try await DaemonProcess(work: work)
        defer { daemon.process.signal(SIGKILL) }

        // -a with a .torrent file: transmission-remote sends it as base64 metainfo.
        let added = try await daemon.remote(["-a", work.file("small.torrent")])
        #expect(added.stdout.contains("success"), "\(added.stdout) \(added.stderr)")
        let list = try await daemon.remote(["-l"])
        #expect(list.stdout.contains("small.bin"))
        // Adding it again is a duplicate, not a second torrent.
        _ = try await daemon.remote(["-a", work.file("small.torrent")])
        #expect(try await daemon.remote(["-l"]).stdout.components(separatedBy: "small.bin").count == 2)

        // The data is elsewhere under the download root, and no peer has it: none of its 7 pieces.
        let elsewhere = daemon.downloadDir + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: work.file("small.bin"), toPath: elsewhere + "/small.bin")
        let none = try await daemon.remote(["-t", "1", "-ic"])
        #expect(none.stdout.filter { $0 == "0" || $0 == "1" } == "0000000", "\(none.stdout)")
        // --find (torrent-set-location, move: false) points it there; the check finds every piece.
        #expect(try await daemon.remote(["-t", "1", "--find", elsewhere]).stdout.contains("success"))
        let found = try await Waiting.pollAsync(timeout: 60, every: .milliseconds(300)) { () -> String? in
            let pieces = try await daemon.remote(["-t", "1", "-ic"]).stdout.filter { $0 == "0" || $0 == "1" }
            return pieces == "1111111" ? pieces : nil
        }
        #expect(found != nil, "the piece map never filled after --find")
        let info = try await daemon.remote(["-t", "1", "-i"])
        #expect(info.stdout.contains("Location: \(elsewhere)") && info.stdout.contains("Percent Done: 100%"), "\(info.stdout)")
        #expect(FileManager.default.fileExists(atPath: daemon.downloadDir + "/small.bin") == false, "--find moved nothing")
        // --reannounce asks for an announce now (a daemon without a DHT has nobody to tell, and says fine).
        #expect(try await daemon.remote(["-t", "1", "--reannounce"]).stdout.contains("success"))

        // Seed ratio limits: the torrent's own (-sr), none (-SR), the session's (-gsr, -GSR, -srd).
        #expect(try await daemon.remote(["-t", "1", "-sr", "1.5"]).stdout.contains("success"))
        #expect(try await daemon.remote(["-t", "1", "-i"]).stdout.contains("Ratio Limit: 1.5"))
        #expect(try await daemon.remote(["-t", "1", "-SR"]).stdout.contains("success"))
        #expect(try await daemon.remote(["-t", "1", "-i"]).stdout.contains("Ratio Limit: Unlimited"))
        #expect(try await daemon.remote(["-gsr", "3"]).stdout.contains("success"))
        #expect(try await daemon.remote(["-si"]).stdout.contains("Default seed ratio limit: 3"))
        #expect(try await daemon.remote(["-t", "1", "-srd"]).stdout.contains("success"))
        #expect(try await daemon.remote(["-t", "1", "-i"]).stdout.contains("Ratio Limit: Default"))
        #expect(try await daemon.remote(["-GSR"]).stdout.contains("success"))
        #expect(try await daemon.remote(["-si"]).stdout.contains("Default seed ratio limit: Unlimited"))

        // Turtle mode: the alternative limits are set, switched on (in force), and off again.
        #expect(try await daemon.remote(["-asd", "20", "-asu", "10"]).stdout.contains("success"))
        #expect(try await daemon.remote(["-as"]).stdout.contains("success"))
        let turtle = try await daemon.remote(["-si"]).stdout
        #expect(turtle.contains("Upload speed limit: 10 kB/s") && turtle.contains("Enabled turtle limit: 20 kB/s"), "\(turtle)")
        #expect(try await daemon.remote(["-AS"]).stdout.contains("success"))
        let normal = try await daemon.remote(["-si"]).stdout
        #expect(normal.contains("Upload speed limit: Unlimited") && normal.contains("Disabled turtle limit: 10 kB/s"), "\(normal)")

        #expect(try await daemon.remote(["-t", "1", "-r"]).stdout.contains("success"))
        #expect(try await daemon.remote(["-l"]).stdout.contains("small.bin") == false)
    }
}

/// What only a real socket can show: a browser's request for a rebound name.
@Suite struct DaemonHostCheckTests {
    @Test(.timeLimit(.minutes(2)))
    func aReboundHostNameIsRefusedAndLoopbackNamesAreServed() async throws {
        let work = try TemporaryDirectory("bf-host")
        let daemon = try await DaemonProcess(work: work)
        defer { daemon.process.signal(SIGKILL) }
        func status(host: String) async throws -> String {
            try await ChildProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: \(host)",
                                                         "http://\(daemon.endpoint)/transmission/rpc"], timeout: 30).stdout
        }
        #expect(try await status(host: "evil.example:\(daemon.rpcPort)") == "403")
        #expect(try await status(host: "localhost:\(daemon.rpcPort)") == "409")
    }

    @Test(.timeLimit(.minutes(2)))
    func anExposedBindWithoutCredentialsIsRefusedAtStart() async throws {
        let work = try TemporaryDirectory("bf-bind")
        let result = try await ChildProcess.bitfountain(["daemon", "--rpc-bind", "0.0.0.0", "--rpc-port", "0", "--no-dht",
                                                         "--bind", "127.0.0.1", "--port", "0",
                                                         "--state-dir", work.file("state"), "--download-dir", work.file("dl")], timeout: 60)
        #expect(result.status != 0)
        #expect(result.stderr.contains("refusing to listen on 0.0.0.0 without credentials"), "\(result.stderr)")
    }
}
