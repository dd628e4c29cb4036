import Metainfo
import Swarm
import Testing

@Suite("LSD announce codec (BEP 14)")
struct LSDAnnounceTests {
    static let a = InfoHash(string: String(repeating: "ab", count: 20))!
    static let b = InfoHash(string: "0123456789abcdef0123456789abcdef01234567")!

    static func text(_ lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\r\n") + "\r\n\r\n\r\n").utf8) }

    @Test func encodesTheBEPLayoutAndParsesItBack() throws {
        let announce = LSDAnnounce(group: .v4, port: 6881, infoHashes: [Self.a, Self.b], cookie: "c00k1e")
        let bytes = announce.encoded()
        #expect(String(decoding: bytes, as: UTF8.self) == """
            BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n\
            Infohash: \(Self.a.hex)\r\nInfohash: \(Self.b.hex)\r\ncookie: c00k1e\r\n\r\n\r\n
            """)
        #expect(try LSDAnnounce(parsing: bytes) == announce)

        let v6 = LSDAnnounce(group: .v6, port: 51413, infoHashes: [Self.b], cookie: nil)
        #expect(String(decoding: v6.encoded(), as: UTF8.self).contains("Host: [ff15::efc0:988f]:6771\r\n"))
        #expect(try LSDAnnounce(parsing: v6.encoded()) == v6)
    }

    @Test func acceptsWhatOtherClientsSend() throws {
        // Upper-case hex and header names in any case; bare LF line ends; unknown headers.
        let parsed = try LSDAnnounce(parsing: Array("""
            BT-SEARCH * HTTP/1.1\nhost: 239.192.152.143:6771\nPORT:  6882 \nX-Other: 1\n\
            INFOHASH: \(Self.b.hex.uppercased())\nCookie: xyz\n\n
            """.utf8))
        #expect(parsed == LSDAnnounce(group: .v4, port: 6882, infoHashes: [Self.b], cookie: "xyz"))
        // An Infohash that is not 40 hex digits is skipped when a valid one is there; repeats count once.
        let mixed = try LSDAnnounce(parsing: Self.text(["BT-SEARCH * HTTP/1.1", "Port: 1", "Infohash: 1234",
                                                         "Infohash: \(Self.a.hex)", "Infohash: \(Self.a.hex)"]))
        #expect(mixed.infoHashes == [Self.a])
        #expect(mixed.cookie == nil)
    }

    @Test func rejectsMalformedAnnounces() {
        let hash = "Infohash: \(Self.a.hex)"
        let cases: [([String], LSDParseError)] = [
            (["M-SEARCH * HTTP/1.1", "Port: 1", hash], .notAnAnnounce),
            (["BT-SEARCH * HTTP/1.1", hash], .missingPort),
            (["BT-SEARCH * HTTP/1.1", "Port: 0", hash], .badPort("0")),
            (["BT-SEARCH * HTTP/1.1", "Port: 65536", hash], .badPort("65536")),
            (["BT-SEARCH * HTTP/1.1", "Port: -1", hash], .badPort("-1")),
            (["BT-SEARCH * HTTP/1.1", "Port: 1", "Port: 2", hash], .duplicatePort),
            (["BT-SEARCH * HTTP/1.1", "Port: 1"], .noInfohash),
            (["BT-SEARCH * HTTP/1.1", "Port: 1", "Infohash: \(String(repeating: "g", count: 40))"], .noInfohash),
            (["BT-SEARCH * HTTP/1.1", "Port: 1", "no colon here", hash], .malformedHeader),
            (["BT-SEARCH * HTTP/1.1", "Port: 1", hash, "cookie: \(String(repeating: "x", count: 65))"], .badCookie),
        ]
        for (lines, expected) in cases {
            #expect(throws: expected, "\(lines)") { try LSDAnnounce(parsing: Self.text(lines)) }
        }
        #expect(throws: LSDParseError.notText) { try LSDAnnounce(parsing: [0x42, 0x00, 0x41]) }
        #expect(throws: LSDParseError.notText) { try LSDAnnounce(parsing: Array("BT-SEARCH é".utf8)) }
        #expect(throws: LSDParseError.notAnAnnounce) { try LSDAnnounce(parsing: []) }
    }

    @Test func refusesOversizedDatagramsBeforeParsing() throws {
        // A valid announce padded past the limit with an unknown header is still refused.
        let valid = Self.text(["BT-SEARCH * HTTP/1.1", "Port: 1", "Infohash: \(Self.a.hex)"])
        let padding = Array("X-Pad: \(String(repeating: "p", count: LSDAnnounce.maxDatagramSize))\r\n".utf8)
        let oversized = Array(valid.prefix(valid.count - 4)) + padding + Array("\r\n\r\n".utf8)
        #expect(throws: LSDParseError.oversized(oversized.count)) { try LSDAnnounce(parsing: oversized) }
        #expect(throws: LSDParseError.oversized(70_000)) { try LSDAnnounce(parsing: [UInt8](repeating: 0x41, count: 70_000)) }
        // Right at the limit it is read.
        let exact = Array(valid.prefix(valid.count - 4)) + Array("X-Pad: ".utf8)
            + [UInt8](repeating: 0x70, count: LSDAnnounce.maxDatagramSize - valid.count - 7) + Array("\r\n\r\n".utf8)
        #expect(exact.count == LSDAnnounce.maxDatagramSize)
        #expect(try LSDAnnounce(parsing: exact).infoHashes == [Self.a])
    }

    @Test func manyTorrentsAreSplitIntoDatagramsOfAtMost1400Bytes() throws {
        let hashes = (0..<100).map { index in InfoHash(bytes: (0..<20).map { UInt8(truncatingIfNeeded: index &* 7 &+ $0) })! }
        for group in LSDGroup.allCases {
            let datagrams = LSDAnnounce.datagrams(group: group, port: 6881, infoHashes: hashes, cookie: "0123456789abcdef")
            #expect(datagrams.count > 1)
            #expect(datagrams.allSatisfy { $0.count <= LSDAnnounce.maxSendSize })
            let parsed = try datagrams.map { try LSDAnnounce(parsing: $0) }
            #expect(parsed.flatMap(\.infoHashes) == hashes)
            #expect(parsed.allSatisfy { $0.port == 6881 && $0.group == group && $0.cookie == "0123456789abcdef" })
        }
        #expect(LSDAnnounce.datagrams(group: .v4, port: 1, infoHashes: [], cookie: nil).isEmpty)
    }
}
