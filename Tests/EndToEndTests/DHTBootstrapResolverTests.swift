import BitFountain
import DHT
import Identity
import Metainfo
import Testing

/// The bootstrap list is resolved with every record of each name; no real DNS:
/// a fake lookup stands in for getaddrinfo.
@Suite struct DHTBootstrapResolverTests {
    static let records: [String: [IPAddress]] = [
        "dht.example": [IPAddress("192.0.2.1")!, IPAddress("192.0.2.2")!, IPAddress("2001:db8::1")!, IPAddress("192.0.2.3")!],
        "one.example": [IPAddress("198.51.100.7")!],
        "dup.example": [IPAddress("192.0.2.2")!],
    ]
    static let fake: DHTBootstrapResolver.Lookup = { name in records[name] ?? [] }

    @Test func everyRecordOfEveryNameIsKeptInListOrder() async {
        let hosts = [HostPort(host: "dht.example", port: 6881), HostPort(host: "gone.example", port: 1),
                     HostPort(host: "203.0.113.9", port: 25401), HostPort(host: "one.example", port: 6881)]
        let all = await DHTBootstrapResolver.resolve(hosts, lookup: Self.fake)
        #expect(all.map(\.description) == ["192.0.2.1:6881", "192.0.2.2:6881", "[2001:db8::1]:6881", "192.0.2.3:6881",
                                           "203.0.113.9:25401", "198.51.100.7:6881"])
        let v4 = await DHTBootstrapResolver.resolve(hosts, families: [.v4], lookup: Self.fake)
        #expect(v4.count == 5 && v4.allSatisfy { $0.family == .v4 })
        let v6 = await DHTBootstrapResolver.resolve(hosts, families: [.v6], lookup: Self.fake)
        #expect(v6.map(\.description) == ["[2001:db8::1]:6881"])
    }

    @Test func anAddressTwoNamesShareIsTriedOnce() async {
        let hosts = [HostPort(host: "dht.example", port: 6881), HostPort(host: "dup.example", port: 6881),
                     HostPort(host: "dup.example", port: 6882)]
        let all = await DHTBootstrapResolver.resolve(hosts, lookup: Self.fake)
        #expect(all.filter { $0.description == "192.0.2.2:6881" }.count == 1)
        #expect(all.last?.description == "192.0.2.2:6882", "another port is another node")
    }

    @Test func numericAddressesNeedNoLookup() async {
        let hosts = [HostPort(host: "127.0.0.1", port: 6881), HostPort(host: "::1", port: 6881)]
        let all = await DHTBootstrapResolver.resolve(hosts) { name in
            Issue.record("looked up \(name)")
            return []
        }
        #expect(all.map(\.description) == ["127.0.0.1:6881", "[::1]:6881"])
    }
}
