import Testing
@testable import Metainfo

@Suite struct FeedLinkTests {
    static let key = "8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e"

    @Test func parsesAndPrintsBEP46Links() throws {
        let plain = try FeedLink(parsing: "magnet:?xs=urn:btpk:\(Self.key)")
        #expect(Hex.encode(plain.publicKey) == Self.key && plain.salt.isEmpty)
        #expect(plain.uri == "magnet:?xs=urn:btpk:\(Self.key)")
        let salted = try FeedLink(parsing: "magnet:?xs=urn%3Abtpk%3A\(Self.key.uppercased())&s=6e&dn=ignored")
        #expect(salted.salt == [0x6E])
        #expect(salted.uri == "magnet:?xs=urn:btpk:\(Self.key)&s=6e")
        #expect(FeedLink.looksLikeFeed(salted.uri))
        #expect(!FeedLink.looksLikeFeed("magnet:?xt=urn:btih:\(String(repeating: "ab", count: 20))"))
    }

    @Test func refusesMalformedLinks() {
        for bad in ["magnet:?xs=urn:btpk:1234", "magnet:?xs=urn:btpk:\(Self.key)&s=zz",
                    "magnet:?xs=urn:btpk:\(Self.key)&s=\(String(repeating: "00", count: 65))", "magnet:?dn=x",
                    "urn:btpk:\(Self.key)"] {
            #expect(throws: MetainfoError.self) { try FeedLink(parsing: bad) }
        }
    }
}
