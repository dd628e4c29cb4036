@testable import BitFountain
import Foundation
import Testing

/// A stored torrent record keeps its JSON form now that its fields come from
/// `ManagedTorrent.Kept`: a record written before still loads with every
/// value, and writing it again gives the same keys and values.
@Suite struct SessionStoreRecordTests {
    static let stored = """
        {"addedDate":1700000000,"category":"tv","doneDate":1700000100,"downloadLimit":2000,"downloaded":10,\
        "filePriorities":["normal","skip","high"],"fountain":true,"haveBytes":30,"id":7,\
        "infoHash":"0123456789abcdef0123456789abcdef01234567","magnet":"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567",\
        "paused":true,"peers":["127.0.0.1:6881"],"published":false,"rootName":"top","savePath":"/srv/data",\
        "tags":["a","b"],"uploadLimit":1000,"uploaded":20}
        """

    @Test func aStoredRecordLoadsWithEveryValueAndIsWrittenBackTheSame() throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let record = try decoder.decode(SessionStore.Record.self, from: Data(Self.stored.utf8))
        #expect(record.id == TorrentID(7) && record.peers == ["127.0.0.1:6881"])
        #expect(record.kept.savePath == "/srv/data" && record.kept.rootName == "top" && record.kept.paused)
        #expect(record.kept.filePriorities == [.normal, .skip, .high] && record.kept.tags == ["a", "b"])
        #expect(record.kept.downloadedBefore == 10 && record.kept.uploadedBefore == 20 && record.kept.lastHaveBytes == 30)
        #expect(record.kept.uploadLimit == 1000 && record.kept.downloadLimit == 2000)
        #expect(record.kept.doneDate == Date(timeIntervalSince1970: 1_700_000_100))

        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let written = try #require(try JSONSerialization.jsonObject(with: encoder.encode(record)) as? NSDictionary)
        let original = try #require(try JSONSerialization.jsonObject(with: Data(Self.stored.utf8)) as? NSDictionary)
        #expect(written == original)
    }

    @Test func settingsWrittenBeforeTheAlternativeLimitsStillLoad() throws {
        // A settings.json of the last release: every field it has is read, the new ones default.
        let old = #"{"defaultSavePath":"/srv","downloadLimit":5000,"encryption":"prefer","fountain":false,"# +
            #""maxConnections":300,"maxPeersPerTorrent":40,"port":6881,"uploadLimit":7000}"#
        let settings = try JSONDecoder().decode(SessionSettings.self, from: Data(old.utf8))
        #expect(settings.defaultSavePath == "/srv" && settings.downloadLimit == 5000 && settings.uploadLimit == 7000)
        #expect(settings.maxConnections == 300 && settings.maxPeersPerTorrent == 40 && settings.port == 6881 && !settings.fountain)
        #expect(settings.altSpeedEnabled == false && settings.altUploadLimit == SessionSettings.defaultAltLimit)
        #expect(settings.seedRatioLimit == nil)
        let again = try JSONDecoder().decode(SessionSettings.self, from: JSONEncoder().encode(settings))
        #expect(again == settings)
    }

    @Test func aSeedRatioLimitIsStoredAsANumberOrAWord() throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        for (text, limit) in [("1.5", SeedRatioLimit.ratio(1.5)), ("0", .ratio(0)), (#""unlimited""#, .unlimited)] {
            let stored = Self.stored.replacingOccurrences(of: #""uploaded":20}"#, with: #""uploaded":20,"seedRatio":\#(text)}"#)
            let record = try decoder.decode(SessionStore.Record.self, from: Data(stored.utf8))
            #expect(record.kept.seedRatio == limit)
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .secondsSince1970
            let written = try #require(try JSONSerialization.jsonObject(with: encoder.encode(record)) as? NSDictionary)
            #expect(written == (try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? NSDictionary))
        }
        let bad = Self.stored.replacingOccurrences(of: #""uploaded":20}"#, with: #""uploaded":20,"seedRatio":"lots"}"#)
        #expect(throws: DecodingError.self) { try decoder.decode(SessionStore.Record.self, from: Data(bad.utf8)) }
    }
}
