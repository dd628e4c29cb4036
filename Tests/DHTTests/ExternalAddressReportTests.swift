import Identity
import Testing
@testable import DHT

/// The home router's word on our external address (port mapping) sets the
/// BEP 42 node ID at once; local or unroutable addresses are not taken.
@Suite struct ExternalAddressReportTests {
    @Test func aReportedAddressRederivesTheIDAsBEP42Says() {
        var net = CoreHarness()
        let node = net.add("192.168.1.2:6881", seed: 1)
        let before = net.cores[node]!.nodeID(for: .v4)
        let external = IPAddress("124.31.75.21")!
        net.with(node) { core, now in core.externalAddressReported(external, now: now) }
        let after = net.cores[node]!.nodeID(for: .v4)
        #expect(after != before)
        #expect(BEP42.isValid(after, for: external))
        #expect(net.cores[node]!.externalAddress(for: .v4) == external)
        #expect(net.cores[node]!.routingTable(for: .v4)!.ownID == after)
        // The same address again changes nothing.
        net.with(node) { core, now in core.externalAddressReported(external, now: now) }
        #expect(net.cores[node]!.nodeID(for: .v4) == after)
    }

    @Test func localUnroutableAndOtherFamilyAddressesAreNotTaken() {
        var net = CoreHarness()
        let node = net.add("192.168.1.2:6881", seed: 1)
        let before = net.cores[node]!.nodeID(for: .v4)
        for address in ["10.0.2.2", "192.168.7.1", "0.0.0.0", "255.255.255.255", "2001:db8::1"] {
            net.with(node) { core, now in core.externalAddressReported(IPAddress(address)!, now: now) }
        }
        #expect(net.cores[node]!.nodeID(for: .v4) == before)
        #expect(net.cores[node]!.externalAddress(for: .v4) == nil)
    }
}
