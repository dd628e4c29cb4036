import BitFountain
import Foundation
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

    /// A restart with many torrents is one info line with the count; each torrent only at debug.
    @Test func restoredTorrentsAreOneInfoLineAndOneDebugLineEach() throws {
        var names = SessionEventLog.TorrentNames()
        let torrents = (1...3).map { RestoredTorrent(id: TorrentID($0), infoHash: infoHash, name: "t\($0)") }
        let event = SessionEvent.restored(torrents)
        names.note(event)
        let summary = SessionEventLog.entry(for: event, names: names)
        #expect(summary.level == .info && summary.message == "torrents restored" && summary.metadata["count"] == "3")
        let each = SessionEventLog.restoredEntries(torrents)
        #expect(each.count == 3 && each.allSatisfy { $0.level == .debug && $0.message == "torrent restored" })
        #expect(each.map { $0.metadata["name"] } == ["t1", "t2", "t3"] && each[1].metadata["torrent"] == "2")
        // Later lines about a restored torrent still name it.
        #expect(SessionEventLog.entry(for: .completed(TorrentID(2)), names: names).metadata["name"] == "t2")
    }

    /// What reaches the log handler at info and at debug for one restore of 50 torrents.
    @Test func aRestoreLogsPerTorrentLinesOnlyAtDebug() async {
        let torrents = (1...50).map { RestoredTorrent(id: TorrentID($0), infoHash: infoHash, name: "t\($0)") }
        for (level, expected) in [(Logger.Level.info, 1), (.debug, 51)] {
            let lines = LineCollector()
            var logger = Logger(label: "test") { _ in lines }
            logger.logLevel = level
            let log = SessionEventLog(logger: logger, counters: NodeMetrics().events)
            let (stream, sink) = AsyncStream.makeStream(of: SessionEvent.self)
            sink.yield(.restored(torrents))
            sink.finish()
            await log.consume(stream)
            #expect(lines.messages.count == expected, "at \(level): \(lines.messages.prefix(3))")
            #expect(lines.messages.last == "torrents restored")
        }
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
            .restored([RestoredTorrent(id: TorrentID(9), infoHash: infoHash, name: "c"),
                       RestoredTorrent(id: TorrentID(10), infoHash: infoHash, name: "d")]),
        ] {
            sink.yield(event)
        }
        sink.finish()
        await log.consume(stream)  // returns only once the stream is read to its end
        let text = String(decoding: metrics.render(torrents: [], dht: nil), as: UTF8.self)
        for line in ["bitfountain_torrents_added_total 4", "bitfountain_torrents_completed_total 2", "bitfountain_torrent_errors_total 1",
                     "bitfountain_peers_banned_total 1", "bitfountain_torrents_removed_total 1"] {
            #expect(text.contains(line + "\n"), "no '\(line)' in:\n\(text)")
        }
    }
}

/// A log handler that keeps the messages it is given (at the logger's level), in order.
final class LineCollector: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var messages: [String] { lock.withLock { kept } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { kept.append(event.message.description) }
    }
}
