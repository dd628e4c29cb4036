import BitFountain
import Logging

/// The daemon's reader of `Session.events`: each event logged at the level it deserves and
/// counted in the node's metrics. Someone has to read the stream: unread, it holds up to
/// 10,000 events for no one.
public struct SessionEventLog: Sendable {
    let logger: Logger
    let counters: SessionEventCounters

    public init(logger: Logger, counters: SessionEventCounters) {
        self.logger = logger
        self.counters = counters
    }

    /// Reads until the stream ends (when the session shuts down).
    public func consume(_ events: AsyncStream<SessionEvent>) async {
        var names = TorrentNames()
        for await event in events { record(event, names: &names) }
    }

    func record(_ event: SessionEvent, names: inout TorrentNames) {
        names.note(event)
        counters.count(event)
        if case .restored(let torrents) = event, logger.logLevel <= .debug {
            for entry in Self.restoredEntries(torrents) { logger.log(level: entry.level, entry.message, metadata: entry.metadata) }
        }
        let entry = Self.entry(for: event, names: names)
        logger.log(level: entry.level, entry.message, metadata: entry.metadata)
        names.forget(event)
    }

    struct Entry {
        let level: Logger.Level
        let message: Logger.Message
        let metadata: Logger.Metadata
    }

    /// One debug line per restored torrent (the info line is the count: `entry(for:)`).
    static func restoredEntries(_ torrents: [RestoredTorrent]) -> [Entry] {
        torrents.map {
            Entry(level: .debug, message: "torrent restored",
                  metadata: ["torrent": "\($0.id)", "name": "\($0.name)", "infohash": "\($0.infoHash.hex)"])
        }
    }

    /// Torrent life (added, metadata, completed, removed) at info, a restart's restored torrents as one line, failures and warnings at
    /// warning, bans at notice, the chatty rest (state changes, announces) at debug.
    static func entry(for event: SessionEvent, names: TorrentNames) -> Entry {
        func torrent(_ id: TorrentID, _ more: Logger.Metadata = [:]) -> Logger.Metadata {
            var metadata: Logger.Metadata = ["torrent": "\(id)"]
            if let name = names[id] { metadata["name"] = "\(name)" }
            return metadata.merging(more) { $1 }
        }
        switch event {
        case .listening(let port, let dhtPort):
            return Entry(level: .info, message: "listening",
                         metadata: ["port": "\(port)", "dht_port": "\(dhtPort.map(String.init) ?? "none")"])
        case .added(let id, let infoHash, _):
            return Entry(level: .info, message: "torrent added", metadata: torrent(id, ["infohash": "\(infoHash.hex)"]))
        case .restored(let torrents):
            return Entry(level: .info, message: "torrents restored", metadata: ["count": "\(torrents.count)"])
        case .metadataReceived(let id, _, let totalBytes, let seconds):
            return Entry(level: .info, message: "metadata received",
                         metadata: torrent(id, ["bytes": "\(totalBytes)", "seconds": "\(seconds)"]))
        case .stateChanged(let id, let from, let to):
            return Entry(level: .debug, message: "torrent state changed",
                         metadata: torrent(id, ["from": "\(from.rawValue)", "to": "\(to.rawValue)"]))
        case .completed(let id):
            return Entry(level: .info, message: "torrent completed", metadata: torrent(id))
        case .removed(let id, let infoHash, let dataDeleted):
            return Entry(level: .info, message: "torrent removed",
                         metadata: torrent(id, ["infohash": "\(infoHash.hex)", "data_deleted": "\(dataDeleted)"]))
        case .error(let id, let reason):
            return Entry(level: .warning, message: "torrent failed", metadata: torrent(id, ["reason": "\(reason)"]))
        case .peerBanned(let id, let address, let reason):
            return Entry(level: .notice, message: "peer banned", metadata: torrent(id, ["peer": "\(address)", "reason": "\(reason)"]))
        case .announced(let id, let nodes):
            return Entry(level: .debug, message: "announced", metadata: torrent(id, ["nodes": "\(nodes)"]))
        case .seedLimitReached(let id, let ratio):
            return Entry(level: .info, message: "seed ratio limit reached, paused",
                         metadata: torrent(id, ["ratio": "\(String(format: "%.2f", ratio))"]))
        case .portMapping(let mapping):
            let level: Logger.Level = if case .failed = mapping { .warning } else { .info }
            return Entry(level: level, message: "port mapping", metadata: ["event": "\(mapping)"])
        case .warning(let text):
            return Entry(level: .warning, message: "\(text)", metadata: [:])
        }
    }

    /// The names of the torrents the stream has told of, so that later lines (completed,
    /// failed) name their torrent, not just its number.
    struct TorrentNames {
        private var names: [TorrentID: String] = [:]

        subscript(id: TorrentID) -> String? { names[id] }

        mutating func note(_ event: SessionEvent) {
            switch event {
            case .added(let id, _, let name), .metadataReceived(let id, let name, _, _): names[id] = name
            case .restored(let torrents): for torrent in torrents { names[torrent.id] = torrent.name }
            default: break
            }
        }

        /// Forgets a removed torrent once its line is written (called after `entry`).
        mutating func forget(_ event: SessionEvent) {
            if case .removed(let id, _, _) = event { names[id] = nil }
        }
    }
}
