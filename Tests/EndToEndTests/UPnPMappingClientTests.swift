import BitFountain
import Foundation
import Identity
import Testing

@Suite("UPnP IGD mapping client core")
struct UPnPMappingClientTests {
    static let location = URL(string: "http://192.168.1.1:5000/rootDesc.xml")!
    static let local = IPAddress("192.168.1.20")!
    static let service = try! UPnPService(description: Array(UPnPMessageTests.description.utf8), at: location)

    static func add(_ transport: NATPMPTransport, external: UInt16 = 6881, lease: UInt32 = 3600) -> UPnPMappingClient.Step {
        .call(service, .addPortMapping(transport, externalPort: external, internalPort: 6881, internalClient: local,
                                       description: "BitFountain", leaseSeconds: lease))
    }

    /// A client past discovery, with the external address known.
    static func ready(_ mappings: [GatewayMappingClient.Mapping] = [.init(.tcp, 6881), .init(.udp, 6881)]) -> UPnPMappingClient {
        var client = UPnPMappingClient(mappings: mappings, now: 0)
        #expect(client.next(now: 0) == .search)
        #expect(client.discovered(location, now: 0).isEmpty)
        #expect(client.next(now: 0) == .fetch(location))
        #expect(client.described(Array(UPnPMessageTests.description.utf8), localAddress: local, now: 0) == [.using(.upnp)])
        #expect(client.next(now: 0) == .call(service, .getExternalIPAddress))
        #expect(client.answered(.success(["NewExternalIPAddress": "203.0.113.9"]), now: 0) == [.externalAddress(IPAddress("203.0.113.9")!)])
        return client
    }

    @Test func discoversMapsRenewsHalfwayAndDeletesOnStop() {
        var client = Self.ready()
        #expect(client.next(now: 0) == Self.add(.tcp))
        #expect(client.next(now: 0) == nil, "one step at a time")
        #expect(client.answered(.success([:]), now: 0) == [.mapped(.tcp, internalPort: 6881, externalPort: 6881, lifetime: 3600)])
        #expect(client.next(now: 0) == Self.add(.udp))
        _ = client.answered(.success([:]), now: 0)
        #expect(client.next(now: 1) == .wait(until: 1800))
        #expect(client.next(now: 1800) == .call(Self.service, .getExternalIPAddress), "the address is asked again every half hour")
        #expect(client.answered(.success(["NewExternalIPAddress": "203.0.113.9"]), now: 1800).isEmpty, "the same address is no news")
        #expect(client.next(now: 1800) == Self.add(.tcp), "renewed halfway")
        #expect(client.answered(.success([:]), now: 1800).isEmpty, "a renewal is no news")
        let stop = client.stop()
        #expect(stop?.service == Self.service)
        #expect(stop?.deletions == [.deletePortMapping(.tcp, externalPort: 6881), .deletePortMapping(.udp, externalPort: 6881)])
        #expect(client.next(now: 2000) == nil)
    }

    @Test func aRouterWithPermanentLeasesOnlyGetsLeaseZero() {
        var client = Self.ready([.init(.tcp, 6881)])
        _ = client.next(now: 0)
        #expect(client.answered(.fault(code: 725, description: "OnlyPermanentLeasesSupported"), now: 0).isEmpty)
        #expect(client.next(now: 0) == Self.add(.tcp, lease: 0))
        #expect(client.answered(.success([:]), now: 0) == [.mapped(.tcp, internalPort: 6881, externalPort: 6881, lifetime: 0)])
        #expect(client.next(now: 1) == .wait(until: 1800), "refreshed, so that a reboot is noticed")
    }

    @Test func aConflictTriesTheNextPortsThenGivesUp() {
        var client = Self.ready([.init(.tcp, 6881)])
        for offset in 0...8 {
            #expect(client.next(now: 0) == Self.add(.tcp, external: 6881 + UInt16(offset)))
            let events = client.answered(.fault(code: 718, description: "ConflictInMappingEntry"), now: 0)
            #expect(events.isEmpty == (offset < 8))
        }
        #expect(client.next(now: 1) == .wait(until: 15 * 60))
        #expect(client.externalPort(of: .init(.tcp, 6881)) == nil)
    }

    @Test func nothingAnsweringIsReportedOnceAndRetriedLater() {
        var client = UPnPMappingClient(mappings: [.init(.tcp, 6881)], now: 0)
        _ = client.next(now: 0)
        #expect(client.discovered(nil, now: 0) == [.failed(nil, internalPort: 0, reason: "no UPnP IGD answered on the LAN")])
        #expect(client.next(now: 10) == .wait(until: 900))
        #expect(client.next(now: 900) == .search)
        #expect(client.discovered(nil, now: 900).isEmpty, "reported once")
        #expect(client.stop() == nil, "nothing to delete")
    }

    @Test func aBadDescriptionOrAFailedCallIsReportedAndChangesNothingElse() {
        var client = UPnPMappingClient(mappings: [.init(.tcp, 6881)], now: 0)
        _ = client.next(now: 0)
        _ = client.discovered(Self.location, now: 0)
        _ = client.next(now: 0)
        let events = client.described(Array("<root><device/></root>".utf8), localAddress: Self.local, now: 0)
        #expect(events == [.failed(nil, internalPort: 0, reason: "the router's description: noWANConnectionService")])
        var ready = Self.ready([.init(.tcp, 6881)])
        _ = ready.next(now: 0)
        #expect(ready.failed("the router closed the connection", now: 0)
                == [.failed(.tcp, internalPort: 6881, reason: "the router closed the connection")])
        #expect(ready.externalPort(of: .init(.tcp, 6881)) == nil)
        #expect(ready.next(now: 1) == .wait(until: 900))
    }

    @Test func outcomesNobodyAskedForAreIgnored() {
        var client = UPnPMappingClient(mappings: [.init(.tcp, 6881)], now: 0)
        #expect(client.answered(.success(["NewExternalIPAddress": "6.6.6.6"]), now: 0).isEmpty)
        #expect(client.described(Array(UPnPMessageTests.description.utf8), localAddress: Self.local, now: 0).isEmpty)
        #expect(client.failed("x", now: 0).isEmpty)
        #expect(client.externalAddress == nil)
        #expect(client.next(now: 0) == .search)
    }
}
