import BitFountain
import Foundation
import Testing
import TestSupport
@testable import RemoteControl

/// qBittorrent's per-torrent limit calls over a real `Session` (no peers): they set the limits
/// the session enforces, read back as qBittorrent answers, and Transmission's torrent-get and
/// torrent-set see and keep the same numbers (one set of limits, whichever dialect set them).
@Suite(.serialized) struct QBTorrentLimitsTests {
    let first = String(repeating: "1a", count: 20)
    let second = String(repeating: "2b", count: 20)

    @Test func perTorrentLimitsReachTheSessionAndReadBackInBothDialects() async throws {
        let work = try TemporaryDirectory("bf-qblimits")
        let session = try await Session.start(.loopbackOnly(state: work.file("state"), savePath: work.file("dl")))
        do {
            try await check(session, work: work)
        } catch {
            await session.shutdown()
            throw error
        }
        await session.shutdown()
    }

    private func check(_ session: Session, work: TemporaryDirectory) async throws {
        var ids: [String: TorrentID] = [:]
        for hash in [first, second] {
            ids[hash] = try await session.add(try TorrentSource(parsing: "magnet:?xt=urn:btih:\(hash)"),
                                              options: AddOptions(paused: true))
        }
        let paths = try PathConfinement(roots: [work.file("dl")])
        let api = QBittorrentAPI(backend: QBSessionBackend(session: session, labels: QBLabelStore(stateDirectory: work.file("state")),
                                                           paths: paths))
        func limits(_ method: String, _ hashes: String) async throws -> [String: Int] {
            guard case .json(let value) = await api.handle(method, QBParameters(["hashes": hashes])) else { return [:] }
            return try #require(try JSONSerialization.jsonObject(with: Data(value.encoded())) as? [String: Int])
        }

        #expect(await api.handle("torrents/setUploadLimit", QBParameters(["hashes": "\(first)|\(second)", "limit": "131072"])) == .text(""))
        #expect(await api.handle("torrents/setDownloadLimit", QBParameters(["hashes": first.uppercased(), "limit": "65536"])) == .text(""))
        var one = try await session.snapshot(try #require(ids[first]))
        var two = try await session.snapshot(try #require(ids[second]))
        #expect(one.uploadLimit == 131_072 && one.downloadLimit == 65_536)
        #expect(two.uploadLimit == 131_072 && two.downloadLimit == nil)
        #expect(try await limits("torrents/uploadLimit", "all") == [first: 131_072, second: 131_072])
        // No limit of its own reads as 0; an unknown hash is left out, as qBittorrent does.
        let unknown = String(repeating: "ff", count: 20)
        #expect(try await limits("torrents/downloadLimit", "\(first)|\(second)|\(unknown)") == [first: 65_536, second: 0])

        // -1 (qbittorrent-api's "no limit") and 0 both take a limit off; the other direction stays.
        #expect(await api.handle("torrents/setUploadLimit", QBParameters(["hashes": first, "limit": "-1"])) == .text(""))
        #expect(await api.handle("torrents/setDownloadLimit", QBParameters(["hashes": second, "limit": "0"])) == .text(""))
        one = try await session.snapshot(try #require(ids[first]))
        two = try await session.snapshot(try #require(ids[second]))
        #expect(one.uploadLimit == nil && one.downloadLimit == 65_536)
        #expect(two.uploadLimit == 131_072 && two.downloadLimit == nil)

        // Transmission shows what the session enforces, in its kB/s (1000 bytes).
        let handler = TransmissionRPCHandler(session: session, paths: paths, configDirectory: work.file("state"),
                                             settings: await session.currentSettings())
        var shown = try await transmissionLimits(handler)
        #expect(shown[first]?.download == 65 && shown[first]?.downloadLimited == true && shown[first]?.uploadLimited == false)
        #expect(shown[second]?.upload == 131 && shown[second]?.uploadLimited == true && shown[second]?.downloadLimited == false)

        // A Transmission torrent-set of one direction leaves the other's exact bytes/s alone.
        let set = #"{"method":"torrent-set","arguments":{"ids":["\#(second)"],"downloadLimit":100,"downloadLimited":true}}"#
        #expect(String(decoding: await handler.respond(to: Array(set.utf8)).body, as: UTF8.self).contains("success"))
        two = try await session.snapshot(try #require(ids[second]))
        #expect(two.uploadLimit == 131_072 && two.downloadLimit == 100_000)
        #expect(try await limits("torrents/downloadLimit", second) == [second: 100_000])
        shown = try await transmissionLimits(handler)
        #expect(shown[second]?.download == 100 && shown[second]?.downloadLimited == true)

        // The session's limits too: one set by qBittorrent after the handler started is shown by
        // session-get, and a Transmission session-set of something else (turtle mode) keeps it.
        #expect(await api.handle("transfer/setDownloadLimit", QBParameters(["limit": "300000"])) == .text(""))
        func sessionGet() async throws -> [String: Any] {
            let get = #"{"method":"session-get","arguments":{"fields":["speed-limit-down","speed-limit-down-enabled","alt-speed-enabled"]}}"#
            let reply = try JSONSerialization.jsonObject(with: Data(await handler.respond(to: Array(get.utf8)).body)) as? [String: Any]
            return reply?["arguments"] as? [String: Any] ?? [:]
        }
        var global = try await sessionGet()
        #expect(global["speed-limit-down"] as? Int == 300 && global["speed-limit-down-enabled"] as? Bool == true, "\(global)")
        let turtle = #"{"method":"session-set","arguments":{"alt-speed-enabled":true}}"#
        #expect(String(decoding: await handler.respond(to: Array(turtle.utf8)).body, as: UTF8.self).contains("success"))
        #expect(await session.currentSettings().downloadLimit == 300_000, "turtle mode undid the other dialect's limit")
        global = try await sessionGet()
        #expect(global["alt-speed-enabled"] as? Bool == true)
        #expect(await api.handle("transfer/speedLimitsMode", QBParameters()) == .text("1"))
    }

    struct Shown { let upload: Int, uploadLimited: Bool, download: Int, downloadLimited: Bool }

    private func transmissionLimits(_ handler: TransmissionRPCHandler) async throws -> [String: Shown] {
        let get = #"{"method":"torrent-get","arguments":{"fields":["hashString","uploadLimit","uploadLimited","downloadLimit","downloadLimited"]}}"#
        let reply = try JSONSerialization.jsonObject(with: Data(await handler.respond(to: Array(get.utf8)).body)) as? [String: Any]
        let torrents = (reply?["arguments"] as? [String: Any])?["torrents"] as? [[String: Any]] ?? []
        var shown: [String: Shown] = [:]
        for torrent in torrents {
            guard let hash = torrent["hashString"] as? String else { continue }
            shown[hash] = Shown(upload: torrent["uploadLimit"] as? Int ?? -1, uploadLimited: torrent["uploadLimited"] as? Bool ?? false,
                                download: torrent["downloadLimit"] as? Int ?? -1,
                                downloadLimited: torrent["downloadLimited"] as? Bool ?? false)
        }
        return shown
    }
}
