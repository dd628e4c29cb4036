import Testing
@testable import Metainfo

@Suite("InfoHash, base32, HostPort")
struct IdentifierTests {
    let hex = "0123456789abcdef0123456789abcdef01234567"

    @Test("hex and base32 forms round-trip and agree")
    func infoHashForms() throws {
        let hash = try #require(InfoHash(string: hex))
        #expect(hash.hex == hex)
        #expect(hash.bytes.count == 20)
        #expect(hash.base32 == "AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH")
        #expect(InfoHash(string: hash.base32) == hash)
        #expect(InfoHash(string: hash.base32.lowercased()) == hash)
        #expect(InfoHash(string: hex.uppercased()) == hash)
        #expect(InfoHash(bytes: hash.bytes) == hash)
    }

    @Test("bad infohash text is rejected", arguments: [
        "0123456789abcdef0123456789abcdef0123456",  // 39 characters
        "0123456789abcdef0123456789abcdef012345678",  // 41
        "0123456789abcdef0123456789abcdef0123456g",  // not hex
        "AERUKZ4JVPG66AJDIVTYTK6N54ASGRL1",  // '1' is not base32
        "",
    ])
    func badInfoHash(text: String) {
        #expect(InfoHash(string: text) == nil)
    }

    @Test("RFC 4648 base32 vectors")
    func base32Vectors() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("MZXW6YTBOI") == Array("foobar".utf8))
        #expect(Base32.encode(Array("f".utf8)) == "MY")
    }

    @Test("HOST:PORT forms", arguments: [
        ("127.0.0.1:6881", "127.0.0.1", UInt16(6881)),
        ("router.bittorrent.com:6881", "router.bittorrent.com", 6881),
        ("[::1]:25401", "::1", 25401),
        ("[2001:db8::1]:1", "2001:db8::1", 1),
    ])
    func hostPort(text: String, host: String, port: UInt16) throws {
        let parsed = try HostPort(parsing: text)
        #expect(parsed.host == host)
        #expect(parsed.port == port)
        #expect(parsed.description == text)
    }

    @Test("bad HOST:PORT is rejected", arguments: ["localhost", "host:0", "host:70000", ":80", "::1:80", "[::1]80", "[::1:80", "h:-1", "h:"])
    func badHostPort(text: String) {
        #expect(throws: MetainfoError.self) { try HostPort(parsing: text) }
    }
}

@Suite("Default bootstrap list")
struct BootstrapListTests {
    @Test("Bootstrap/nodes.txt and the built-in list are the same")
    func fileMatchesBuiltIn() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Bootstrap/nodes.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(try DefaultBootstrap.parse(text) == DefaultBootstrap.nodes)
        #expect(DefaultBootstrap.nodes.count == 3)
        // Dead for years (router.utorrent.com, dht.aelitis.com) or since 2024 (router.bittorrent.com).
        for dead in ["router.utorrent.com", "router.bittorrent.com", "dht.aelitis.com"] {
            #expect(!DefaultBootstrap.nodes.contains { $0.host == dead })
        }
    }

    @Test("comments and blank lines are skipped; a bad line is an error")
    func parseFormat() throws {
        #expect(try DefaultBootstrap.parse("# c\n\n a.b:1 # x\n[::1]:2\n") == [HostPort(host: "a.b", port: 1), HostPort(host: "::1", port: 2)])
        #expect(throws: MetainfoError.self) { try DefaultBootstrap.parse("a.b\n") }
    }
}

import Foundation
