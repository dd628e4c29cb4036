import Foundation
import Testing
@testable import RemoteControl

/// The hand-written JSON encoder the RPC replies go through: what it writes must
/// parse back (with Foundation's parser) to the same values.
@Suite struct JSONWriterTests {
    func parsed(_ bytes: [UInt8]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    @Test func stringsAreEscapedAsRFC8259Requires() throws {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} slash / é 🙂"
        let bytes = JSONValue.string(text).jsonBytes()
        #expect(try parsed(bytes) as? String == text)
        #expect(!bytes.contains(0x07) && !bytes.contains(0x00) && !bytes.contains(0x0a))
    }

    @Test func numbersKeepTheirValues() throws {
        let values: [Double] = [0, 1, -1, 0.5, 1.0 / 3, 1e-7, 6.02e23, -2.5e-300]
        for value in values {
            #expect(try parsed(JSONValue.double(value).jsonBytes()) as? Double == value)
        }
        #expect(String(decoding: JSONValue.double(1).jsonBytes(), as: UTF8.self) == "1")
        #expect(String(decoding: JSONValue.double(.nan).jsonBytes(), as: UTF8.self) == "0")
        #expect(String(decoding: JSONValue.double(-.infinity).jsonBytes(), as: UTF8.self) == "0")
        #expect(try parsed(JSONValue.int(-(1 << 40)).jsonBytes()) as? Int64 == -(1 << 40))
    }

    @Test func typedWritesMatchTheirJSONValues() throws {
        var writer = JSONWriter()
        writer.beginArray()
        for number: Int64 in [0, 7, 10, -3, 1234567890123, .min, .max] { writer.write(number) }
        writer.write(0.25)
        writer.write(2.0)
        writer.write("plain")
        writer.write("tab\t")
        writer.write(true)
        writer.endArray()
        #expect(String(decoding: writer.bytes, as: UTF8.self)
                == #"[0,7,10,-3,1234567890123,-9223372036854775808,9223372036854775807,0.25,2,"plain","tab\t",true]"#)
        var keyed = JSONWriter()
        keyed.beginObject()
        keyed.key(encoded: JSONWriter.encodedKey("a\"b"))
        keyed.write(1 as Int64)
        keyed.key(encoded: JSONWriter.encodedKey("c"))
        keyed.write(.null)
        keyed.endObject()
        let object = try #require(try parsed(keyed.bytes) as? [String: Any])
        #expect(object["a\"b"] as? Int == 1 && object["c"] is NSNull)
    }

    @Test func nestedValuesRoundTripWithSortedKeysOnRequest() throws {
        let value: JSONValue = .object(["b": .array([.int(1), .null, .bool(true), .object([:]), .array([])]),
                                        "a": .object(["z": "x", "y": .bool(false)])])
        let object = try #require(try parsed(value.jsonBytes()) as? [String: Any])
        #expect((object["a"] as? [String: Any])?["z"] as? String == "x")
        #expect((object["b"] as? [Any])?.count == 5)
        #expect(String(decoding: value.jsonBytes(sortedKeys: true), as: UTF8.self)
                == #"{"a":{"y":false,"z":"x"},"b":[1,null,true,{},[]]}"#)
    }

    /// Objects that share a key set reuse its sorted order; one with other keys gets its own.
    @Test func sortedKeysStaySortedAcrossObjectsWithTheSameOrOtherKeys() throws {
        let same: JSONValue = .array([.object(["b": 1, "a": 2, "c": 3]), .object(["c": 4, "a": 5, "b": 6]),
                                      .object(["a": 7, "b": 8, "d": 9]), .object(["b": 10, "a": 11])])
        #expect(String(decoding: same.jsonBytes(sortedKeys: true), as: UTF8.self)
                == #"[{"a":2,"b":1,"c":3},{"a":5,"b":6,"c":4},{"a":7,"b":8,"d":9},{"a":11,"b":10}]"#)
    }

    @Test func torrentObjectsAreWrittenInTheOrderAskedWithoutUnknownFields() throws {
        var writer = JSONWriter()
        writer.beginArray()
        for id in 1...2 {
            writer.beginObject()
            writer.key("id")
            writer.write(.int(Int64(id)))
            writer.key("name")
            writer.write(.string("t\(id)"))
            writer.endObject()
        }
        writer.endArray()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"[{"id":1,"name":"t1"},{"id":2,"name":"t2"}]"#)
        let plan = TransmissionTorrentFields.Plan(["id", "name", "id", "status", "noSuchField", "peer-limit", "name"])
        #expect(plan.fields == [.id, .name, .status, .peerLimit])
        #expect(!plan.needsFiles && !plan.needsPeers)
        #expect(TransmissionTorrentFields.Plan(["id", "fileStats"]).needsFiles)
        #expect(TransmissionTorrentFields.Plan(["peersFrom"]).needsPeers)
    }
}
