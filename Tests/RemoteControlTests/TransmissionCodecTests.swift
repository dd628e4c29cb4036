import Foundation
import Testing
@testable import RemoteControl

/// Requests as transmission-remote 3.00 sends them (captured from the real binary).
@Suite struct TransmissionCodecTests {
    func command(_ json: String) throws -> TransmissionCommand {
        try TransmissionCommand(try TransmissionRequest(body: Array(json.utf8)))
    }

    @Test func transmissionRemoteRequestsDecodeIntoTypedCommands() throws {
        #expect(try command(#"{"arguments":{"fields":["id","name"]},"method":"torrent-get","tag":4}"#)
            == .torrentGet(fields: ["id", "name"], ids: .all))
        #expect(try command(#"{"arguments":{"fields":["id"],"ids":"recently-active"},"method":"torrent-get"}"#)
            == .torrentGet(fields: ["id"], ids: .recentlyActive))
        #expect(try command(#"{"arguments":{"fields":["id"],"ids":"0123456789ABCDEF0123456789abcdef01234567"},"method":"torrent-get"}"#)
            == .torrentGet(fields: ["id"], ids: .some([.hash("0123456789abcdef0123456789abcdef01234567")])))
        #expect(try command(#"{"arguments":{"ids":[1,2]},"method":"torrent-start"}"#) == .torrentStart(.some([.id(1), .id(2)])))
        #expect(try command(#"{"arguments":{"delete-local-data":true,"ids":1},"method":"torrent-remove"}"#)
            == .torrentRemove(.some([.id(1)]), deleteLocalData: true))
        #expect(try command(#"{"arguments":{"speed-limit-down":100,"speed-limit-down-enabled":true},"method":"session-set"}"#)
            == .sessionSet(.init(speedLimitDown: 100, speedLimitDownEnabled: true)))
        #expect(try command(#"{"arguments":{"metainfo":"aGkK"},"method":"torrent-add","tag":8}"#)
            == .torrentAdd(.init(source: .metainfo(Array("hi\n".utf8)), paused: false)))
        #expect(try command(#"{"arguments":{"filename":"magnet:?xt=urn:btih:00","paused":true,"download-dir":"/x"},"method":"torrent-add"}"#)
            == .torrentAdd(.init(source: .filename("magnet:?xt=urn:btih:00"), downloadDir: "/x", paused: true)))
        #expect(try command(#"{"arguments":{"files-unwanted":[3],"ids":1},"method":"torrent-set"}"#)
            == .torrentSet(.some([.id(1)]), .init(filesUnwanted: [3])))
        #expect(try command(#"{"arguments":{"ids":1,"location":"/tmp/x","move":true},"method":"torrent-set-location"}"#)
            == .torrentSetLocation(.some([.id(1)]), location: "/tmp/x", move: true))
        #expect(try command(#"{"method":"session-get","tag":0}"#) == .sessionGet(fields: nil))
        #expect(try command(#"{"method":"session-stats"}"#) == .sessionStats)
    }

    @Test func badRequestsGetErrorsThatNameTheProblem() throws {
        #expect(throws: TransmissionRPCError.self) { try TransmissionRequest(body: Array("{not json".utf8)) }
        #expect(throws: TransmissionRPCError.invalidJSON("the body is not a JSON object")) {
            try TransmissionRequest(body: Array("[1,2]".utf8))
        }
        #expect(throws: TransmissionRPCError.missingMethod) { try command(#"{"arguments":{}}"#) }
        #expect(throws: TransmissionRPCError.unknownMethod("torrent-explode")) { try command(#"{"method":"torrent-explode"}"#) }
        #expect(throws: TransmissionRPCError.missingArgument("fields")) { try command(#"{"method":"torrent-get"}"#) }
        #expect(throws: TransmissionRPCError.self) { try command(#"{"method":"torrent-start","arguments":{"ids":["nope"]}}"#) }
        #expect(throws: TransmissionRPCError.self) { try command(#"{"method":"torrent-set","arguments":{"downloadLimit":-5}}"#) }
        #expect(throws: TransmissionRPCError.self) { try command(#"{"method":"torrent-add","arguments":{"metainfo":"%%%"}}"#) }
        #expect(TransmissionRPCError.unknownMethod("x").description == "method name not recognized: x")
    }

    /// A limit is multiplied by 1000 downstream: near Int64.max that overflowed, a trap that stopped the daemon.
    @Test func speedLimitsAreBoundedBeforeAnyArithmetic() throws {
        for (method, name) in [("torrent-set", "downloadLimit"), ("torrent-set", "uploadLimit"),
                               ("session-set", "speed-limit-down"), ("session-set", "speed-limit-up")] {
            #expect(throws: TransmissionRPCError.self) {
                try command(#"{"method":"\#(method)","arguments":{"\#(name)":9223372036854775807}}"#)
            }
            #expect(throws: TransmissionRPCError.self) {
                try command(#"{"method":"\#(method)","arguments":{"\#(name)":\#(TransmissionCommand.maxSpeedKilobytes + 1)}}"#)
            }
            _ = try command(#"{"method":"\#(method)","arguments":{"\#(name)":\#(TransmissionCommand.maxSpeedKilobytes)}}"#)
        }
        guard case .torrentSet(_, let set) = try command(#"{"method":"torrent-set","arguments":{"ids":1,"downloadLimit":4294967296}}"#)
        else { Issue.record("not a torrent-set"); return }
        var limits = TransmissionTorrentLimits()
        limits.downloadKilobytes = try #require(set.downloadLimit)
        limits.downloadLimited = true
        #expect(limits.downloadBytesPerSecond == 4_294_967_296_000)
    }

    @Test func repliesCarryResultArgumentsAndTheRequestTag() throws {
        let bytes = TransmissionResponse.success(["torrents": .array([.object(["id": 1])])], tag: 7).encoded()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["result"] as? String == "success")
        #expect(object["tag"] as? Int == 7)
        let torrents = (object["arguments"] as? [String: Any])?["torrents"] as? [[String: Any]]
        #expect(torrents?.first?["id"] as? Int == 1)
    }
}
