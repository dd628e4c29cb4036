/// Everything `sync/maindata` reports, at one instant.
public struct QBMainDataSnapshot: Sendable, Equatable {
    public var torrents: [String: QBTorrent]
    public var categories: [String: QBCategory]
    public var tags: Set<String>
    public var serverState: QBServerState

    public init(torrents: [QBTorrent] = [], categories: [QBCategory] = [], tags: Set<String> = [],
                serverState: QBServerState = QBServerState()) {
        self.torrents = Dictionary(torrents.map { ($0.hash, $0) }, uniquingKeysWith: { _, last in last })
        self.categories = Dictionary(categories.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.tags = tags
        self.serverState = serverState
    }
}

/// The `sync/maindata` response bodies, as pure functions of snapshots: a full update, or what
/// changed between the snapshot a client last saw and now. Torrents are keyed by hash and carry
/// only their changed fields; removals are listed separately; empty sections are left out.
public enum QBMainData {
    public static func full(_ snapshot: QBMainDataSnapshot, rid: Int) -> JSONValue {
        .object([
            "rid": .int(Int64(rid)),
            "full_update": .bool(true),
            "torrents": .object(snapshot.torrents.mapValues { .object(syncFields($0)) }),
            "categories": .object(snapshot.categories.mapValues(\.json)),
            "tags": .array(snapshot.tags.sorted().map(JSONValue.string)),
            "server_state": .object(snapshot.serverState.fields),
            "trackers": .object([:]),
        ])
    }

    public static func delta(from old: QBMainDataSnapshot, to new: QBMainDataSnapshot, rid: Int) -> JSONValue {
        var body: [String: JSONValue] = ["rid": .int(Int64(rid))]

        var torrents: [String: JSONValue] = [:]
        for (hash, torrent) in new.torrents where old.torrents[hash] != torrent {
            let fields = syncFields(torrent)
            guard let previous = old.torrents[hash] else {
                torrents[hash] = .object(fields)
                continue
            }
            let changed = changedFields(from: syncFields(previous), to: fields)
            if !changed.isEmpty { torrents[hash] = .object(changed) }
        }
        if !torrents.isEmpty { body["torrents"] = .object(torrents) }
        let removedTorrents = old.torrents.keys.filter { new.torrents[$0] == nil }.sorted()
        if !removedTorrents.isEmpty { body["torrents_removed"] = .array(removedTorrents.map(JSONValue.string)) }

        let categories = new.categories.filter { old.categories[$0.key] != $0.value }
        if !categories.isEmpty { body["categories"] = .object(categories.mapValues(\.json)) }
        let removedCategories = old.categories.keys.filter { new.categories[$0] == nil }.sorted()
        if !removedCategories.isEmpty { body["categories_removed"] = .array(removedCategories.map(JSONValue.string)) }

        let addedTags = new.tags.subtracting(old.tags).sorted()
        if !addedTags.isEmpty { body["tags"] = .array(addedTags.map(JSONValue.string)) }
        let removedTags = old.tags.subtracting(new.tags).sorted()
        if !removedTags.isEmpty { body["tags_removed"] = .array(removedTags.map(JSONValue.string)) }

        let state = changedFields(from: old.serverState.fields, to: new.serverState.fields)
        if !state.isEmpty { body["server_state"] = .object(state) }
        return .object(body)
    }

    /// A torrent as maindata lists it: keyed by hash, so without the `hash` field.
    private static func syncFields(_ torrent: QBTorrent) -> [String: JSONValue] {
        var fields = torrent.fields
        fields["hash"] = nil
        return fields
    }

    private static func changedFields(from old: [String: JSONValue], to new: [String: JSONValue]) -> [String: JSONValue] {
        new.filter { old[$0.key] != $0.value }
    }
}

/// The snapshots behind recent `sync/maindata` responses, by response id. A client that sends
/// back an id still held gets a delta against that snapshot; any other id (0, an evicted or a
/// made-up one) gets a full update, as qBittorrent does. Bounded: the oldest is evicted first.
public struct QBSyncHistory: Sendable {
    public let capacity: Int
    private var entries: [(rid: Int, snapshot: QBMainDataSnapshot)] = []
    private var lastRid = 0

    public init(capacity: Int = 4) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public mutating func respond(to requestedRid: Int, with current: QBMainDataSnapshot) -> JSONValue {
        let base = requestedRid > 0 ? entries.last(where: { $0.rid == requestedRid })?.snapshot : nil
        // An unchanged state answers with the newest id rather than minting one per poll, so
        // idle pollers do not evict the snapshots other clients are syncing against.
        let rid: Int
        if let newest = entries.last, newest.snapshot == current {
            rid = newest.rid
        } else {
            lastRid += 1
            rid = lastRid
            entries.append((rid, current))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
        guard let base else { return QBMainData.full(current, rid: rid) }
        return QBMainData.delta(from: base, to: current, rid: rid)
    }
}
