import BitFountain
import Logging
import Metainfo
import Testing
@testable import RemoteControl

/// The daemon's reader of the session's events: at which level each is logged, with which
/// torrent named, and that reading the stream to its end counts every event in /metrics.
@Suite struct SessionEventLogTests {
    let id = TorrentID(7)
    let infoHash = InfoHash(string: String(repeating: "ab", count: 20))!

    @Test func torrentLifeIsInfoFailuresAreWarningsAndTheChattyRestIsDebug() throws {
        var names = SessionEventLog.TorrentNames()
        func entry(_ event: SessionEvent) -> SessionEventLog.Entry {
            names.note(event)
            return SessionEventLog.entry(for: event, names: names)
        }
        let added = entry(.added(id, infoHash: infoHash, name: "film.mkv"))
        #expect(added.level == .info && added.message == "torrent added")
        #expect(added.metadata["torrent"] == "7" && added.metadata["name"] == "film.mkv" && added.metadata["infohash"] == "\(infoHash.hex)")
        // Later events carry only the id; the line still names the torrent.
        let completed = entry(.completed(id))
        #expect(completed.level == .info && completed.message == "torrent completed" && completed.metadata["name"] == "film.mkv")
        let failed = entry(.error(id, "disk full"))
        #expect(failed.level == .warning && failed.metadata["reason"] == "disk full" && failed.metadata["name"] == "film.mkv")
        #expect(entry(.removed(id, infoHash: infoHash, dataDeleted: true)).level == .info)
        #expect(entry(.warning("cannot save the settings")).level == .warning)
        #expect(entry(.peerBanned(id, address: "127.0.0.1:6881", reason: "bad piece")).level == .notice)
        #expect(entry(.stateChanged(id, from: .downloading, to: .seeding)).level == .debug)
        #expect(entry(.announced(id, nodes: 8)).level == .debug)
        #expect(entry(.portMapping(.failed(nil, internalPort: 6881, reason: "no router"))).level == .warning)
    }

    @Test func consumingReadsTheStreamToItsEndAndCountsEveryEvent() async {
        let metrics = NodeMetrics()
        let log = SessionEventLog(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, counters: metrics.events)
        let (stream, sink) = AsyncStream.makeStream(of: SessionEvent.self)
        let other = TorrentID(8)
        for event: SessionEvent in [
            .listening(port: 6881, dhtPort: nil), .added(id, infoHash: infoHash, name: "a"), .added(other, infoHash: infoHash, name: "b"),
            .completed(id), .stateChanged(id, from: .seeding, to: .downloading), .completed(id), .error(other, "gone"),
            .peerBanned(id, address: "127.0.0.1:1", reason: "bad"), .removed(other, infoHash: infoHash, dataDeleted: false),
        ] {
            sink.yield(event)
        }
        sink.finish()
        await log.consume(stream)  // returns only once the stream is read to its end
        let text = String(decoding: metrics.render(torrents: [], dht: nil), as: UTF8.self)
        for line in ["bitfountain_torrents_added_total 2", "bitfountain_torrents_completed_total 2", "bitfountain_torrent_errors_total 1",
                     "bitfountain_peers_banned_total 1", "bitfountain_torrents_removed_total 1"] {
            #expect(text.contains(line + "\n"), "no '\(line)' in:\n\(text)")
        }
    }
}
