import Foundation
import Testing

@testable import RemoteControl

@Suite struct QBMainDataTests {
    func object(_ json: JSONValue) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: json.encoded()) as? [String: Any])
    }

    func snapshot(_ torrents: [QBTorrent], categories: [QBCategory] = [], tags: Set<String> = [],
                  dhtNodes: Int64 = 0) -> QBMainDataSnapshot {
        var server = QBServerState()
        server.dhtNodes = dhtNodes
        return QBMainDataSnapshot(torrents: torrents, categories: categories, tags: tags, serverState: server)
    }

    @Test func ridZeroIsAFullUpdateAndAnEchoedRidGetsOnlyChanges() throws {
        var history = QBSyncHistory()
        var first = QBTorrent(hash: "aa", name: "one", state: .downloading)
        first.progress = 0.25
        let second = QBTorrent(hash: "bb", name: "two", state: .stalledUP)
        let full = try object(history.respond(to: 0, with: snapshot([first, second], tags: ["x"])))
        #expect(full["full_update"] as? Bool == true)
        let rid = try #require(full["rid"] as? Int)
        let torrents = try #require(full["torrents"] as? [String: [String: Any]])
        #expect(Set(torrents.keys) == ["aa", "bb"])
        #expect(torrents["aa"]?["progress"] as? Double == 0.25)
        #expect(torrents["aa"]?["hash"] == nil, "maindata keys torrents by hash and leaves the field out")
        #expect(full["tags"] as? [String] == ["x"])

        first.progress = 0.5
        let third = QBTorrent(hash: "cc", name: "three", state: .metaDL)
        let delta = try object(history.respond(to: rid, with: snapshot(
            [first, third], categories: [QBCategory(name: "tv", savePath: "/d/tv")], dhtNodes: 5)))
        #expect(delta["full_update"] == nil)
        #expect(try #require(delta["rid"] as? Int) > rid)
        let changed = try #require(delta["torrents"] as? [String: [String: Any]])
        #expect(Set(changed.keys) == ["aa", "cc"])
        #expect(Set(changed["aa"]!.keys) == ["progress"], "only the changed field of a known torrent")
        #expect(changed["cc"]?["name"] as? String == "three", "a new torrent comes whole")
        #expect(delta["torrents_removed"] as? [String] == ["bb"])
        #expect(delta["tags_removed"] as? [String] == ["x"])
        let categories = try #require(delta["categories"] as? [String: [String: String]])
        #expect(categories["tv"] == ["name": "tv", "savePath": "/d/tv"])
        let server = try #require(delta["server_state"] as? [String: Any])
        #expect(server["dht_nodes"] as? Int == 5 && server["connection_status"] as? String == "connected")
        #expect(server["dl_info_speed"] == nil)
    }

    @Test func anUnchangedStateKeepsItsRidAndSendsNothing() throws {
        var history = QBSyncHistory()
        let state = snapshot([QBTorrent(hash: "aa", name: "one", state: .stalledUP)])
        let rid = try #require(try object(history.respond(to: 0, with: state))["rid"] as? Int)
        let again = try object(history.respond(to: rid, with: state))
        #expect(again["rid"] as? Int == rid)
        #expect(Set(again.keys) == ["rid"])
    }

    @Test func anEvictedOrUnknownRidGetsAFullUpdate() throws {
        var history = QBSyncHistory(capacity: 2)
        var rids: [Int] = []
        for progress in [0.1, 0.2, 0.3] {
            var t = QBTorrent(hash: "aa", name: "one", state: .downloading)
            t.progress = progress
            rids.append(try #require(try object(history.respond(to: 0, with: snapshot([t])))["rid"] as? Int))
        }
        let latest = snapshot([QBTorrent(hash: "aa", name: "one", state: .stalledDL)])
        #expect(try object(history.respond(to: rids[0], with: latest))["full_update"] as? Bool == true)
        #expect(try object(history.respond(to: 999, with: latest))["full_update"] as? Bool == true)
        #expect(try object(history.respond(to: rids[2], with: latest))["full_update"] == nil)
    }
}
