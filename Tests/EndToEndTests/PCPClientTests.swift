import BitFountain
import Identity
import Testing

@Suite("PCP messages and the client's PCP dialect (RFC 6887)")
struct PCPClientTests {
    typealias Client = GatewayMappingClient
    static let local = IPAddress("192.168.1.20")!
    static let nonce: [UInt8] = Array(1...12)
    static let dialect = Client.Dialect.pcp(client: local, nonce: nonce)

    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32($0))) } }
    static func mapped4(_ ip: [UInt8]) -> [UInt8] { [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + ip }

    /// A MAP answer as a PCP server lays it out.
    static func answer(result: UInt8 = 0, lifetime: UInt32 = 7200, epoch: UInt32 = 100, nonce: [UInt8] = nonce,
                       protocolNumber: UInt8 = 6, internalPort: UInt16 = 6881, external: UInt16 = 6881,
                       address: [UInt8] = [203, 0, 113, 9], version: UInt8 = 2) -> [UInt8] {
        [version, 0x81, 0, result] + be32(lifetime) + be32(epoch) + [UInt8](repeating: 0, count: 12)
            + nonce + [protocolNumber, 0, 0, 0] + be16(internalPort) + be16(external) + mapped4(address)
    }

    @Test func encodesMapAsRFC6887LaysItOut() {
        let request = PCPRequest.map(.tcp, internalPort: 6881, suggestedExternalPort: 0, lifetime: 7200, client: Self.local, nonce: Self.nonce)
        #expect(request.count == 60)
        #expect(Array(request[0..<8]) == [2, 1, 0, 0, 0, 0, 0x1C, 0x20])
        #expect(Array(request[8..<24]) == Self.mapped4([192, 168, 1, 20]))
        #expect(Array(request[24..<36]) == Self.nonce)
        #expect(Array(request[36..<44]) == [6, 0, 0, 0, 0x1A, 0xE1, 0, 0])
        #expect(Array(request[44..<60]) == Self.mapped4([0, 0, 0, 0]), "no preference for the external address")
    }

    @Test func parsesAnswersAndRefusesMalformedOnes() throws {
        #expect(try PCPResponse(parsing: Self.answer()) == .mapped(.tcp, nonce: Self.nonce, epoch: 100, internalPort: 6881, externalPort: 6881,
                                                                  externalAddress: IPAddress("203.0.113.9")!, lifetime: 7200))
        #expect(throws: PCPResponse.ParseError.wrongSize(20)) { try PCPResponse(parsing: [UInt8](repeating: 0, count: 20)) }
        #expect(throws: PCPResponse.ParseError.wrongSize(61)) { try PCPResponse(parsing: Self.answer() + [0]) }
        #expect(throws: PCPResponse.ParseError.wrongSize(1104)) {
            try PCPResponse(parsing: Self.answer() + [UInt8](repeating: 0, count: 1044))
        }
        #expect(throws: PCPResponse.ParseError.wrongSize(56)) { try PCPResponse(parsing: Array(Self.answer().prefix(56))) }
        var request = Self.answer()
        request[1] = 0x01
        #expect(throws: PCPResponse.ParseError.notAResponse) { try PCPResponse(parsing: request) }
        var peer = Self.answer()
        peer[1] = 0x82
        #expect(throws: PCPResponse.ParseError.unsupportedOpcode(2)) { try PCPResponse(parsing: peer) }
        #expect(throws: PCPResponse.ParseError.unknownProtocol(99)) { try PCPResponse(parsing: Self.answer(protocolNumber: 99)) }
        // Options after the MAP body are skipped.
        #expect(try PCPResponse(parsing: Self.answer() + [0x12, 0, 0, 0]) == (try PCPResponse(parsing: Self.answer())))
    }

    @Test func mapsReportsTheAddressRenewsAndDeletesUnderItsNonce() {
        var client = Client(mappings: [.init(.tcp, 6881)], dialect: Self.dialect, now: 0)
        let first = client.poll(now: 0).datagrams
        #expect(first == [PCPRequest.map(.tcp, internalPort: 6881, suggestedExternalPort: 0, lifetime: 7200, client: Self.local, nonce: Self.nonce)],
                "PCP has no separate address request")
        #expect(client.receive(Self.answer(), now: 0.1)
                == [.externalAddress(IPAddress("203.0.113.9")!), .mapped(.tcp, internalPort: 6881, externalPort: 6881, lifetime: 7200)])
        #expect(client.nextWake == 0.1 + 3600)
        #expect(client.poll(now: 3600.2).datagrams
                == [PCPRequest.map(.tcp, internalPort: 6881, suggestedExternalPort: 6881, lifetime: 7200, client: Self.local, nonce: Self.nonce)])
        // RFC 6887 §15: lifetime 0 under the same nonce, protocol and internal port deletes it.
        #expect(client.stop()
                == [PCPRequest.map(.tcp, internalPort: 6881, suggestedExternalPort: 0, lifetime: 0, client: Self.local, nonce: Self.nonce)])
    }

    @Test func anAnswerWithAnotherNonceIsNotOurs() {
        var client = Client(mappings: [.init(.tcp, 6881)], dialect: Self.dialect, now: 0)
        _ = client.poll(now: 0)
        #expect(client.receive(Self.answer(nonce: Array(repeating: 9, count: 12), address: [6, 6, 6, 6]), now: 0.1).isEmpty)
        #expect(client.receive(Self.answer(result: 2, nonce: Array(repeating: 9, count: 12)), now: 0.1).isEmpty,
                "nor is a forged refusal")
        #expect(client.externalAddress == nil && client.externalPort(of: .init(.tcp, 6881)) == nil)
        // Garbage of every size changes nothing either.
        for size in [0, 3, 8, 12, 16, 24, 59, 60, 64, 1100, 1200] {
            #expect(client.receive([UInt8](repeating: 0x81, count: size), now: 0.2).isEmpty)
        }
        #expect(client.receive(Self.answer(), now: 0.3).count == 2, "the real answer still counts")
    }

    @Test func aRefusalIsReportedWithItsReason() {
        var client = Client(mappings: [.init(.tcp, 6881), .init(.udp, 6881)], dialect: Self.dialect, now: 0)
        _ = client.poll(now: 0)
        #expect(client.receive(Self.answer(result: 2, protocolNumber: 17), now: 0.1)
                == [.failed(.udp, internalPort: 6881, reason: "the gateway answered: not authorized (port mapping switched off on the router)")])
    }

    @Test func aNATPMPGatewayMakesTheClientSwitchToNATPMP() {
        var client = Client(mappings: [.init(.tcp, 6881)], dialect: Self.dialect, now: 0)
        _ = client.poll(now: 0)
        // RFC 6887 Annex A: a NAT-PMP server answers a version-2 request with its own "unsupported version".
        #expect(client.receive([0, 129, 0, 1] + Self.be32(55), now: 0.1) == [.using(.natpmp)])
        #expect(client.dialect == .natpmp)
        #expect(client.poll(now: 0.1).datagrams == [NATPMPRequest.externalAddress.encoded(),
                                                    NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 0, lifetime: 7200).encoded()])
        #expect(client.receive([0, 129, 0, 1] + Self.be32(55), now: 0.2).isEmpty, "switching happens once")
    }

    @Test func aPCPServerOfAnotherVersionIsNotTakenForNATPMP() {
        var client = Client(mappings: [.init(.tcp, 6881)], dialect: Self.dialect, now: 0)
        _ = client.poll(now: 0)
        #expect(client.receive(Self.answer(result: 1, version: 1), now: 0.1).isEmpty)
        #expect(client.dialect == Self.dialect)
        #expect(client.receive(Self.answer(result: 1, version: 0), now: 0.1) == [.using(.natpmp)])
    }
}
