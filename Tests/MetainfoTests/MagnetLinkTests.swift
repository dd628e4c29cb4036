import Testing
@testable import Metainfo

@Suite("Magnet links")
struct MagnetLinkTests {
    let hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"

    @Test("hex link with name, peers and trackers")
    func fullLink() throws {
        let link = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(hex)&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Ftracker.example%3A80&x.pe=10.0.0.1:6881&x.pe=%5B%3A%3A1%5D%3A7000")
        #expect(link.infoHash.hex == hex)
        #expect(link.displayName == "Big Buck Bunny")
        #expect(link.peers == [HostPort(host: "10.0.0.1", port: 6881), HostPort(host: "::1", port: 7000)])
    }

    @Test("base32 link, bare hex and bare base32 infohashes")
    func otherForms() throws {
        let hash = try #require(InfoHash(string: hex))
        #expect(try MagnetLink(parsing: "magnet:?xt=urn:btih:\(hash.base32)").infoHash == hash)
        #expect(try MagnetLink(parsing: hex).infoHash == hash)
        #expect(try MagnetLink(parsing: "  \(hex.uppercased())\n").infoHash == hash)
        #expect(try MagnetLink(parsing: hash.base32).infoHash == hash)
        #expect(try MagnetLink(parsing: "MAGNET:?XT=urn:btih:\(hex)").infoHash == hash)
    }

    @Test("format then parse gives the same link")
    func roundTrip() throws {
        let link = MagnetLink(infoHash: InfoHash(string: hex)!, displayName: "a & b/ü=1?", peers: [HostPort(host: "::1", port: 9)])
        #expect(try MagnetLink(parsing: link.uri) == link)
        #expect(link.uri.hasPrefix("magnet:?xt=urn:btih:\(hex)&dn=a%20%26%20b%2F%C3%BC%3D1%3F"))
    }

    @Test("clear errors for what is not a usable link", arguments: [
        ("http://example.com/x.torrent", "expected"),
        ("magnet:?dn=x", "no 'xt=urn:btih:' infohash"),
        ("magnet:?xt=urn:btih:1234", "not a 40-character hex"),
        ("magnet:?xt=urn:btmh:1220abcd", "v2"),
        ("magnet:?xt=urn:btih:\(String(repeating: "a", count: 40))&xt=urn:btih:\(String(repeating: "b", count: 40))", "two different"),
        ("magnet:?xt=urn:btih:\(String(repeating: "a", count: 40))&x.pe=nope", "HOST:PORT"),
    ])
    func errors(text: String, fragment: String) {
        do {
            _ = try MagnetLink(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }
}
