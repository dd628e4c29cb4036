import BitFountain
import Foundation
import Testing

@testable import RemoteControl

/// The dispatcher's own rules (which parameters are required, qBittorrent's status codes, the
/// category save path default), over a backend that keeps torrents in memory and records calls.
@Suite struct QBittorrentAPITests {
    actor MemoryBackend: QBBackend {
        var torrents: [String: QBTorrent] = [:]
        var categories: [String: QBCategory] = [:]
        var added: [QBAddRequest] = []
        var stopped: [Set<String>?] = []

        init(_ torrents: [QBTorrent]) { self.torrents = Dictionary(uniqueKeysWithValues: torrents.map { ($0.hash, $0) }) }

        var altSpeed = false
        func mainData() -> QBMainDataSnapshot {
            var server = QBServerState()
            server.altSpeedEnabled = altSpeed
            return QBMainDataSnapshot(torrents: Array(torrents.values), categories: Array(categories.values), serverState: server)
        }
        func setAltSpeedEnabled(_ enabled: Bool) { altSpeed = enabled }
        func preferences() -> QBPreferences { QBPreferences(savePath: "/downloads") }
        var preferenceChanges: [QBPreferenceChanges] = []
        func setPreferences(_ changes: QBPreferenceChanges) { preferenceChanges.append(changes) }
        func add(_ request: QBAddRequest) -> Int {
            added.append(request)
            return request.urls.filter { $0.hasPrefix("magnet:") }.count + request.torrentFiles.count
        }
        func delete(_ hashes: Set<String>?, deleteFiles: Bool) {
            for hash in hashes ?? Set(torrents.keys) { torrents[hash] = nil }
        }
        func setStopped(_ hashes: Set<String>?, _ stop: Bool) { stopped.append(hashes) }
        func recheck(_ hashes: Set<String>?) {}
        var reannounced: [Set<String>?] = []
        func reannounce(_ hashes: Set<String>?) { reannounced.append(hashes) }
        func torrentFile(of hash: String) throws(QBRequestError) -> [UInt8] {
            guard torrents[hash] != nil else { throw .notFound("Torrent hash \(hash)") }
            return Array("d4:infod4:name1:xee".utf8)
        }
        func peers(of hash: String) throws(QBRequestError) -> [QBPeer] {
            guard torrents[hash] != nil else { throw .notFound("Torrent hash \(hash)") }
            return [QBPeer(address: "127.0.0.1:6881", client: "BitFountain 0.1", downloadRate: 10, incoming: true, encrypted: true),
                    QBPeer(address: "[::1]:51413", client: "Transmission 3.00", uploadRate: 5, utp: true)]
        }
        var shareLimits: [SeedRatioLimit] = []
        func setShareLimits(_ hashes: Set<String>?, ratio: SeedRatioLimit) { shareLimits.append(ratio) }
        func peerSources(of hash: String) throws(QBRequestError) -> QBPeerSources {
            guard torrents[hash] != nil else { throw .notFound("Torrent hash \(hash)") }
            return QBPeerSources(dht: true, pex: true, lsd: false)
        }
        func setLocation(_ hashes: Set<String>?, _ location: String) {}
        func setFilePriority(_ hash: String, files: [Int], priority: Int) {}
        func setGlobalLimits(download: Int?, upload: Int?) {}
        var torrentLimits: [String] = []
        func setTorrentLimit(_ direction: QBRateDirection, _ hashes: Set<String>?, bytesPerSecond: Int?) {
            torrentLimits.append("\(direction) \(hashes.map { $0.sorted().joined(separator: "|") } ?? "all") \(bytesPerSecond.map(String.init) ?? "none")")
        }
        func files(of hash: String) throws(QBRequestError) -> [QBFile] {
            guard torrents[hash] != nil else { throw .notFound(hash) }
            return [QBFile(index: 0, name: "a.bin", size: 10, progress: 1, priority: 1, pieceRange: 0...0)]
        }
        func pieceInfo(of hash: String) throws(QBRequestError) -> QBPieceInfo {
            QBPieceInfo(pieceSize: 16384, pieceCount: 2, piecesHave: 1)
        }
        func pieceStates(of hash: String) -> [Int] { [2, 0] }
        func createCategory(_ category: QBCategory) { categories[category.name] = category }
        func removeCategories(_ names: [String]) { for name in names { categories[name] = nil } }
        func setCategory(_ category: String, for hashes: Set<String>?) {
            for hash in hashes ?? Set(torrents.keys) { torrents[hash]?.category = category }
        }
        func createTags(_ tags: [String]) {}
        func deleteTags(_ tags: [String]) {}
        func addTags(_ tags: [String], to hashes: Set<String>?) {
            for hash in hashes ?? Set(torrents.keys) { torrents[hash]?.tags += tags }
        }
        func removeTags(_ tags: [String], from hashes: Set<String>?) {}
    }

    let hash = String(repeating: "ab", count: 20)

    func api() -> (QBittorrentAPI, MemoryBackend) {
        let backend = MemoryBackend([QBTorrent(hash: hash, name: "show", state: .stalledUP)])
        return (QBittorrentAPI(backend: backend, unixNow: { 1_000 }), backend)
    }

    func json(_ response: QBResponse) throws -> Any {
        guard case .json(let value) = response else { throw QBRequestError.conflict("not JSON: \(response)") }
        return try JSONSerialization.jsonObject(with: value.encoded())
    }

    @Test func versionsAreQBittorrent5sWebAPI() async {
        let (api, _) = api()
        #expect(await api.handle("app/version", QBParameters()) == .text("v5.0.0"))
        #expect(await api.handle("app/webapiVersion", QBParameters()) == .text("2.11.2"))
        #expect(await api.handle("app/nonsense", QBParameters()) == .failure(.notFound("Unknown method app/nonsense")))
    }

    @Test func addUsesTheCategorysSavePathUnlessOneIsGiven() async throws {
        let (api, backend) = api()
        #expect(await api.handle("torrents/createCategory", QBParameters(["category": "tv", "savePath": "/d/tv"])) == .text(""))
        #expect(await api.handle("torrents/createCategory", QBParameters(["category": "tv"]))
            == .failure(.conflict("Category already exists")))
        #expect(await api.handle("torrents/add", QBParameters(["urls": "magnet:?xt=urn:btih:\(hash)", "category": "tv",
                                                                 "paused": "true", "tags": "a,b"])) == .text("Ok."))
        #expect(await api.handle("torrents/add", QBParameters(["urls": "magnet:?x", "category": "tv", "savepath": "/d/x"]))
            == .text("Ok."))
        let added = await backend.added
        #expect(added.map(\.savePath) == ["/d/tv", "/d/x"])
        #expect(added.first?.stopped == true && added.first?.tags == ["a", "b"])
        #expect(await api.handle("torrents/add", QBParameters(["urls": "not a link"])) == .failure(.unsupported("Fails.")))
        #expect(await api.handle("torrents/add", QBParameters()) == .failure(.missingParameter("urls or torrents")))
    }

    @Test func setCategoryNeedsAnExistingCategoryAndHashes() async throws {
        let (api, backend) = api()
        #expect(await api.handle("torrents/setCategory", QBParameters(["hashes": hash, "category": "nope"]))
            == .failure(.conflict("Category does not exist")))
        #expect(await api.handle("torrents/setCategory", QBParameters(["category": ""])) == .failure(.missingParameter("hashes")))
        _ = await api.handle("torrents/createCategory", QBParameters(["category": "movies"]))
        #expect(await api.handle("torrents/setCategory", QBParameters(["hashes": hash.uppercased(), "category": "movies"]))
            == .text(""))
        #expect(await backend.torrents[hash]?.category == "movies")
        let listed = try #require(try json(await api.handle("torrents/info", QBParameters(["category": "movies"]))) as? [[String: Any]])
        #expect(listed.map { $0["hash"] as? String } == [hash])
    }

    @Test func pauseAndStopAreTheSameAndAllMeansEveryTorrent() async {
        let (api, backend) = api()
        _ = await api.handle("torrents/pause", QBParameters(["hashes": hash]))
        _ = await api.handle("torrents/stop", QBParameters(["hashes": "all"]))
        #expect(await backend.stopped == [[hash], nil])
    }

    @Test func reannounceForceStartAndQueueCalls() async {
        let (api, backend) = api()
        #expect(await api.handle("torrents/reannounce", QBParameters(["hashes": hash])) == .text(""))
        #expect(await api.handle("torrents/reannounce", QBParameters(["hashes": "all"])) == .text(""))
        #expect(await backend.reannounced == [[hash], nil])
        // Force-starting starts; taking the force away leaves the torrent as it is.
        #expect(await api.handle("torrents/setForceStart", QBParameters(["hashes": hash, "value": "true"])) == .text(""))
        #expect(await api.handle("torrents/setForceStart", QBParameters(["hashes": hash, "value": "false"])) == .text(""))
        #expect(await backend.stopped == [[hash]])
        #expect(await api.handle("torrents/setForceStart", QBParameters(["hashes": hash])) == .failure(.missingParameter("value")))
        // No queue here: qBittorrent's answer while queueing is disabled.
        for method in ["torrents/topPrio", "torrents/bottomPrio", "torrents/increasePrio", "torrents/decreasePrio"] {
            #expect(await api.handle(method, QBParameters(["hashes": hash])) == .failure(.conflict("Torrent queueing must be enabled")))
            #expect(await api.handle(method, QBParameters()) == .failure(.missingParameter("hashes")))
        }
    }

    @Test func setPreferencesAppliesWhatItKnowsAndRefusesBadValues() async {
        let (api, backend) = api()
        func set(_ json: String) async -> QBResponse { await api.handle("app/setPreferences", QBParameters(["json": json])) }
        #expect(await set(#"{"dl_limit": 1048576, "up_limit": -1, "max_connec": 200, "max_connec_per_torrent": 30,"# +
                          #""save_path": "/d/new", "max_ratio_enabled": true, "max_ratio": 2.5, "locale": "fr"}"#) == .text(""))
        var expected = QBPreferenceChanges()
        (expected.downloadLimit, expected.uploadLimit, expected.maxConnections, expected.maxConnectionsPerTorrent) = (1_048_576, 0, 200, 30)
        (expected.savePath, expected.maxRatioEnabled, expected.maxRatio) = ("/d/new", true, 2.5)
        #expect(await backend.preferenceChanges == [expected])
        #expect(await set("[1]") == .failure(.badParameter("json", "not a JSON object")))
        #expect(await set("{") == .failure(.badParameter("json", "not a JSON object")))
        #expect(await set(#"{"dl_limit": "fast"}"#) == .failure(.badParameter("dl_limit", "\(JSONValue.string("fast"))")))
        #expect(await set(#"{"max_connec": 0}"#) == .failure(.badParameter("max_connec", "0 (a positive number of connections)")))
        #expect(await set(#"{"max_ratio": "nan"}"#) == .failure(.badParameter("max_ratio", "\(JSONValue.string("nan"))")))
        #expect(await api.handle("app/setPreferences", QBParameters()) == .failure(.missingParameter("json")))
        #expect(await backend.preferenceChanges.count == 1, "a refused call changed nothing")
    }

    @Test func torrentPeersListsEveryPeerByAddress() async throws {
        let (api, _) = api()
        let first = try #require(try json(await api.handle("sync/torrentPeers", QBParameters(["hash": hash, "rid": "0"]))) as? [String: Any])
        #expect(first["full_update"] as? Bool == true && first["rid"] as? Int == 1)
        let peers = try #require(first["peers"] as? [String: [String: Any]])
        #expect(Set(peers.keys) == ["127.0.0.1:6881", "[::1]:51413"])
        #expect(peers["127.0.0.1:6881"]?["ip"] as? String == "127.0.0.1" && peers["127.0.0.1:6881"]?["port"] as? Int == 6881)
        #expect(peers["127.0.0.1:6881"]?["flags"] as? String == "I E" && peers["127.0.0.1:6881"]?["connection"] as? String == "BT")
        #expect(peers["[::1]:51413"]?["ip"] as? String == "::1" && peers["[::1]:51413"]?["connection"] as? String == "μTP")
        let second = try #require(try json(await api.handle("sync/torrentPeers", QBParameters(["hash": hash, "rid": "1"]))) as? [String: Any])
        #expect(second["rid"] as? Int == 2)
        let other = String(repeating: "cd", count: 20)
        #expect(await api.handle("sync/torrentPeers", QBParameters(["hash": other])) == .failure(.notFound("Torrent hash \(other)")))
    }

    @Test func theAlternativeSpeedLimitsAreToggledAndSet() async {
        let (api, backend) = api()
        #expect(await api.handle("transfer/speedLimitsMode", QBParameters()) == .text("0"))
        #expect(await api.handle("transfer/toggleSpeedLimitsMode", QBParameters()) == .text(""))
        #expect(await api.handle("transfer/speedLimitsMode", QBParameters()) == .text("1"))
        #expect(await api.handle("transfer/toggleSpeedLimitsMode", QBParameters()) == .text(""))
        #expect(await backend.altSpeed == false)
        #expect(await api.handle("transfer/setSpeedLimitsMode", QBParameters(["mode": "1"])) == .text(""))
        #expect(await backend.altSpeed == true)
        #expect(await api.handle("transfer/setSpeedLimitsMode", QBParameters(["mode": "2"])) == .failure(.badParameter("mode", "2")))
        #expect(await backend.altSpeed == true)
    }

    @Test func shareLimitsSetTheRatioAndRefuseSeedingTimes() async {
        let (api, backend) = api()
        func set(_ ratio: String, _ time: String = "-2", _ inactive: String = "-2") async -> QBResponse {
            await api.handle("torrents/setShareLimits", QBParameters(["hashes": hash, "ratioLimit": ratio,
                                                                     "seedingTimeLimit": time, "inactiveSeedingTimeLimit": inactive]))
        }
        #expect(await set("1.5") == .text(""))
        #expect(await set("-1", "-1", "-1") == .text(""))
        #expect(await set("-2") == .text(""))
        #expect(await set("0") == .text(""))
        #expect(await backend.shareLimits == [.ratio(1.5), .unlimited, .global, .ratio(0)])
        #expect(await set("-3") == .failure(.badParameter("ratioLimit", "-3")))
        #expect(await set("nan") == .failure(.badParameter("ratioLimit", "nan")))
        #expect(await set("1", "60") == .failure(.badParameter("seedingTimeLimit", "60 (seeding-time limits are not supported here: -2 or -1 only)")))
        #expect(await set("1", "-2", "30") == .failure(.badParameter("inactiveSeedingTimeLimit",
                                                                       "30 (seeding-time limits are not supported here: -2 or -1 only)")))
        #expect(await api.handle("torrents/setShareLimits", QBParameters(["hashes": hash])) == .failure(.missingParameter("ratioLimit")))
        #expect(await backend.shareLimits.count == 4, "a refused call changed nothing")
    }

    @Test func trackersListThePeerSourcesAndExportGivesTheTorrentFile() async throws {
        let (api, _) = api()
        let rows = try #require(try json(await api.handle("torrents/trackers", QBParameters(["hash": hash]))) as? [[String: Any]])
        #expect(rows.map { $0["url"] as? String } == ["** [DHT] **", "** [PeX] **", "** [LSD] **"])
        #expect(rows.map { $0["status"] as? Int } == [2, 2, 0])
        #expect(rows.allSatisfy { $0["tier"] as? Int == -1 && $0["num_peers"] as? Int == -1 })
        let other = String(repeating: "cd", count: 20)
        #expect(await api.handle("torrents/trackers", QBParameters(["hash": other])) == .failure(.notFound("Torrent hash \(other)")))
        #expect(await api.handle("torrents/export", QBParameters(["hash": hash])) == .torrentFile(Array("d4:infod4:name1:xee".utf8)))
        #expect(await api.handle("torrents/export", QBParameters()) == .failure(.missingParameter("hash")))
    }

    @Test func propertiesAndFilesOfAnUnknownHashAre404() async throws {
        let (api, _) = api()
        let other = String(repeating: "cd", count: 20)
        #expect(await api.handle("torrents/properties", QBParameters(["hash": other]))
            == .failure(.notFound("Torrent hash \(other)")))
        let properties = try #require(try json(await api.handle("torrents/properties", QBParameters(["hash": hash]))) as? [String: Any])
        #expect(properties["pieces_num"] as? Int == 2 && properties["pieces_have"] as? Int == 1)
        let files = try #require(try json(await api.handle("torrents/files", QBParameters(["hash": hash]))) as? [[String: Any]])
        #expect(files.first?["piece_range"] as? [Int] == [0, 0])
        #expect(await api.handle("torrents/files", QBParameters(["hash": other])) == .failure(.notFound(other)))
    }

    @Test func filePriorityValuesAreChecked() async {
        let (api, _) = api()
        #expect(await api.handle("torrents/filePrio", QBParameters(["hash": hash, "id": "0|1", "priority": "6"])) == .text(""))
        #expect(await api.handle("torrents/filePrio", QBParameters(["hash": hash, "id": "0", "priority": "3"]))
            == .failure(.badParameter("priority", "3")))
        #expect(await api.handle("torrents/filePrio", QBParameters(["hash": hash, "id": "x", "priority": "1"]))
            == .failure(.badParameter("id", "x")))
    }

    @Test func perTorrentLimitCallsNeedHashesAndAWholeNumber() async {
        let (api, backend) = api()
        #expect(await api.handle("torrents/setUploadLimit", QBParameters(["hashes": hash, "limit": "2048"])) == .text(""))
        #expect(await api.handle("torrents/setDownloadLimit", QBParameters(["hashes": "all", "limit": "-1"])) == .text(""))
        #expect(await api.handle("torrents/setUploadLimit", QBParameters(["hashes": hash, "limit": "0"])) == .text(""))
        #expect(await api.handle("torrents/setUploadLimit", QBParameters(["hashes": hash])) == .failure(.missingParameter("limit")))
        #expect(await api.handle("torrents/setUploadLimit", QBParameters(["limit": "5"])) == .failure(.missingParameter("hashes")))
        #expect(await api.handle("torrents/setDownloadLimit", QBParameters(["hashes": hash, "limit": "fast"]))
            == .failure(.badParameter("limit", "fast")))
        #expect(await api.handle("torrents/uploadLimit", QBParameters()) == .failure(.missingParameter("hashes")))
        // Refused calls reached nothing.
        #expect(await backend.torrentLimits == ["upload \(hash) 2048", "download all none", "upload \(hash) none"])
    }
}
