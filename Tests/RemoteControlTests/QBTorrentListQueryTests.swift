import Testing

@testable import RemoteControl

@Suite struct QBTorrentListQueryTests {
    static func torrent(_ hash: String, _ name: String, _ state: QBTorrentState, progress: Double = 0,
                        dl: Int64 = 0, category: String = "", tags: [String] = [], size: Int64 = 0) -> QBTorrent {
        var t = QBTorrent(hash: hash, name: name, state: state)
        t.progress = progress
        t.dlspeed = dl
        t.category = category
        t.tags = tags
        t.size = size
        return t
    }

    let torrents = [
        torrent("a1", "Bravo", .downloading, progress: 0.5, dl: 100, category: "tv", tags: ["x"], size: 30),
        torrent("b2", "alpha", .stoppedDL, progress: 0.1, category: "movies", size: 10),
        torrent("c3", "Charlie", .stalledUP, progress: 1, category: "tv", tags: ["x", "y"], size: 20),
        torrent("d4", "delta", .stoppedUP, progress: 1, size: 40),
    ]

    func hashes(_ parameters: [String: String]) throws -> [String] {
        try QBTorrentListQuery(QBParameters(parameters)).apply(to: torrents).map(\.hash)
    }

    @Test func filtersFollowQBittorrentsStateGroups() throws {
        #expect(try hashes(["filter": "downloading"]) == ["a1", "b2"])
        #expect(try hashes(["filter": "seeding"]) == ["c3"])
        #expect(try hashes(["filter": "completed"]) == ["c3", "d4"])
        #expect(try hashes(["filter": "stopped"]) == ["b2", "d4"])
        #expect(try hashes(["filter": "paused"]) == ["b2", "d4"])
        #expect(try hashes(["filter": "resumed"]) == ["a1", "c3"])
        #expect(try hashes(["filter": "active"]) == ["a1"])
        #expect(try hashes(["filter": "stalled"]) == ["c3"])
        #expect(throws: QBRequestError.self) { try hashes(["filter": "bogus"]) }
    }

    @Test func categoryTagAndHashesNarrowTheList() throws {
        #expect(try hashes(["category": "tv"]) == ["a1", "c3"])
        #expect(try hashes(["category": ""]) == ["d4"])
        #expect(try hashes(["tag": "y"]) == ["c3"])
        #expect(try hashes(["tag": ""]) == ["b2", "d4"])
        #expect(try hashes(["hashes": "D4|a1"]) == ["a1", "d4"])
        #expect(try hashes(["category": "tv", "filter": "completed"]) == ["c3"])
    }

    @Test func sortReverseLimitAndOffset() throws {
        #expect(try hashes(["sort": "name"]) == ["b2", "a1", "c3", "d4"])
        #expect(try hashes(["sort": "size", "reverse": "true"]) == ["d4", "a1", "c3", "b2"])
        #expect(try hashes(["sort": "progress", "limit": "2"]) == ["b2", "a1"])
        #expect(try hashes(["sort": "size", "offset": "1", "limit": "2"]) == ["c3", "a1"])
        #expect(try hashes(["sort": "size", "offset": "-1"]) == ["d4"])
        #expect(try hashes(["offset": "9"]) == [])
        #expect(throws: QBRequestError.self) { try hashes(["limit": "-3"]) }
    }

    /// `offset + limit` overflowed (a trap: one request stopped the daemon) for a limit near Int.max.
    @Test func hugeLimitsAndOffsetsSelectWhatIsThere() throws {
        #expect(try hashes(["sort": "size", "offset": "1", "limit": "\(Int.max)"]) == ["c3", "a1", "d4"])
        #expect(try hashes(["sort": "size", "offset": "\(Int.max)", "limit": "\(Int.max)"]) == [])
        #expect(try hashes(["sort": "size", "offset": "\(Int.min)", "limit": "1"]) == ["b2"])
    }

    @Test func stateStringsFollowTheEnginesFacts() {
        func state(stopped: Bool = false, checking: Bool = false, meta: Bool = true, complete: Bool = false,
                   error: Bool = false, moving: Bool = false) -> String {
            QBTorrentState(.init(stopped: stopped, checking: checking, hasMetadata: meta, complete: complete,
                                 errored: error, transferring: moving)).rawValue
        }
        #expect(state(meta: false) == "metaDL")
        #expect(state(moving: true) == "downloading")
        #expect(state() == "stalledDL")
        #expect(state(complete: true, moving: true) == "uploading")
        #expect(state(complete: true) == "stalledUP")
        #expect(state(stopped: true) == "stoppedDL")
        #expect(state(stopped: true, complete: true) == "stoppedUP")
        #expect(state(checking: true) == "checkingDL")
        #expect(state(stopped: true, error: true) == "error")
    }
}
