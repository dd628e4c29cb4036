import BitFountain
import Identity
import Testing

@Suite("NAT-PMP messages and client core (RFC 6886)")
struct NATPMPClientTests {
    typealias Client = GatewayMappingClient

    static func addressResponse(epoch: UInt32, _ ip: [UInt8]) -> [UInt8] {
        [0, 128, 0, 0] + be32(epoch) + ip
    }

    static func mapResponse(_ transport: NATPMPTransport, epoch: UInt32, local: UInt16, external: UInt16, lifetime: UInt32,
                            result: UInt16 = 0) -> [UInt8] {
        [0, 128 + transport.rawValue] + be16(result) + be32(epoch) + be16(local) + be16(external) + be32(lifetime)
    }

    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32($0))) } }

    @Test func encodesRequestsAsRFC6886LaysThemOut() {
        #expect(NATPMPRequest.externalAddress.encoded() == [0, 0])
        #expect(NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 6882, lifetime: 7200).encoded()
                == [0, 2, 0, 0, 0x1A, 0xE1, 0x1A, 0xE2, 0, 0, 0x1C, 0x20])
        #expect(NATPMPRequest.map(.udp, internalPort: 6881, externalPort: 0, lifetime: 0).encoded()
                == [0, 1, 0, 0, 0x1A, 0xE1, 0, 0, 0, 0, 0, 0])
    }

    @Test func parsesResponsesAndRefusesAnythingElse() throws {
        #expect(try NATPMPResponse(parsing: Self.addressResponse(epoch: 77, [203, 0, 113, 5]))
                == .externalAddress(epoch: 77, address: IPAddress("203.0.113.5")!))
        #expect(try NATPMPResponse(parsing: Self.mapResponse(.udp, epoch: 9, local: 6881, external: 40000, lifetime: 3600))
                == .mapped(.udp, epoch: 9, internalPort: 6881, externalPort: 40000, lifetime: 3600))
        #expect(try NATPMPResponse(parsing: Self.mapResponse(.tcp, epoch: 9, local: 6881, external: 0, lifetime: 0, result: 2))
                == .failed(request: 2, result: .notAuthorized, epoch: 9, internalPort: 6881))
        #expect(try NATPMPResponse(parsing: [0, 128, 0, 3] + Self.be32(1))
                == .failed(request: 0, result: .networkFailure, epoch: 1, internalPort: nil))
        #expect(throws: NATPMPResponse.ParseError.wrongSize(2)) { try NATPMPResponse(parsing: [0, 128]) }
        #expect(throws: NATPMPResponse.ParseError.wrongSize(17)) { try NATPMPResponse(parsing: [UInt8](repeating: 0, count: 17)) }
        #expect(throws: NATPMPResponse.ParseError.wrongSize(1000)) { try NATPMPResponse(parsing: [UInt8](repeating: 0, count: 1000)) }
        #expect(throws: NATPMPResponse.ParseError.notAResponse) { try NATPMPResponse(parsing: [0, 2] + [UInt8](repeating: 0, count: 10)) }
        #expect(throws: NATPMPResponse.ParseError.notAResponse) { try NATPMPResponse(parsing: [2, 129] + [UInt8](repeating: 0, count: 10)) }
        #expect(throws: NATPMPResponse.ParseError.unknownOpcode(9)) { try NATPMPResponse(parsing: [0, 137] + [UInt8](repeating: 0, count: 10)) }
        // A success answer of the wrong length for its opcode.
        #expect(throws: NATPMPResponse.ParseError.wrongSize(12)) {
            try NATPMPResponse(parsing: Array(Self.mapResponse(.tcp, epoch: 1, local: 1, external: 1, lifetime: 1).prefix(12)))
        }
    }

    @Test func retransmitsWithDoublingDelaysThenGivesUp() {
        var client = Client(mappings: [.init(.tcp, 6881)], now: 0)
        var sends: [Double] = []
        var failures: [Client.Event] = []
        var now = 0.0
        while now < 200 {
            let (datagrams, events) = client.poll(now: now)
            if datagrams.contains(NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 0, lifetime: 7200).encoded()) { sends.append(now) }
            failures += events
            now = client.nextWake ?? 1_000
        }
        // 0, 0.25, 0.75, 1.75, …: nine tries, each wait twice the last (RFC 6886 §3.1).
        #expect(sends.count == 9)
        #expect(zip(sends, sends.dropFirst()).map { $1 - $0 } == [0.25, 0.5, 1, 2, 4, 8, 16, 32])
        #expect(failures.contains(.failed(.tcp, internalPort: 6881, reason: "no answer from the gateway")))
        #expect(failures.contains(.failed(nil, internalPort: 0, reason: "no answer from the gateway")))
        #expect(client.nextWake! >= sends.last! + 15 * 60 - 64, "then it waits a long while before asking again")
        // Asked again later, and still no answer: not reported a second time.
        var later: [Client.Event] = []
        now = client.nextWake!
        while now < 3_000 {
            later += client.poll(now: now).events
            now = client.nextWake ?? 10_000
        }
        #expect(later.isEmpty, "\(later)")
    }

    @Test func mapsRenewsHalfwayAndDeletesOnStop() {
        var configuration = Client.Configuration()
        configuration.retryAfterFailure = 10_000
        var client = Client(mappings: [.init(.tcp, 6881), .init(.udp, 6881)], configuration: configuration, now: 0)
        let first = client.poll(now: 0).datagrams
        #expect(first == [NATPMPRequest.externalAddress.encoded(),
                          NATPMPRequest.map(.udp, internalPort: 6881, externalPort: 0, lifetime: 7200).encoded(),
                          NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 0, lifetime: 7200).encoded()])
        #expect(client.receive(Self.addressResponse(epoch: 100, [203, 0, 113, 5]), now: 0.1)
                == [.externalAddress(IPAddress("203.0.113.5")!)])
        #expect(client.receive(Self.mapResponse(.tcp, epoch: 100, local: 6881, external: 46881, lifetime: 3600), now: 0.1)
                == [.mapped(.tcp, internalPort: 6881, externalPort: 46881, lifetime: 3600)])
        #expect(client.externalPort(of: .init(.tcp, 6881)) == 46881)
        // An answer nobody asked for (a duplicate) changes nothing.
        #expect(client.receive(Self.mapResponse(.tcp, epoch: 100, local: 6881, external: 1, lifetime: 3600), now: 0.2).isEmpty)
        #expect(client.externalPort(of: .init(.tcp, 6881)) == 46881)
        // UDP is refused: reported, and asked again much later.
        #expect(client.receive(Self.mapResponse(.udp, epoch: 100, local: 6881, external: 0, lifetime: 0, result: 2), now: 0.2)
                == [.failed(.udp, internalPort: 6881, reason: "the gateway answered: not authorized (port mapping switched off on the router)")])
        // Nothing until halfway through the TCP lifetime; then a renewal asking for the same external port.
        #expect(client.poll(now: 1_700).datagrams.isEmpty)
        #expect(client.nextWake == 0.1 + 1_800)
        #expect(client.poll(now: 1_800.1).datagrams == [NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 46881, lifetime: 7200).encoded()])
        #expect(client.receive(Self.mapResponse(.tcp, epoch: 1_900, local: 6881, external: 46881, lifetime: 7200), now: 1_800.2).isEmpty,
                "the same port again is no news")
        #expect(client.stop() == [NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 0, lifetime: 0).encoded()])
        #expect(client.stop().isEmpty)
        #expect(client.nextWake == nil)
    }

    @Test func aGatewayWhoseEpochWentBackIsAskedForEverythingAgain() {
        var client = Client(mappings: [.init(.tcp, 6881)], now: 0)
        _ = client.poll(now: 0)
        _ = client.receive(Self.addressResponse(epoch: 5_000, [203, 0, 113, 5]), now: 0)
        _ = client.receive(Self.mapResponse(.tcp, epoch: 5_000, local: 6881, external: 46881, lifetime: 7200), now: 0)
        #expect(client.poll(now: 600).datagrams.isEmpty)
        // 600 s later the gateway says it has been up 10 s: it rebooted and lost the mapping.
        _ = client.receive(Self.addressResponse(epoch: 10, [203, 0, 113, 5]), now: 600)
        let again = client.poll(now: 600).datagrams
        #expect(again == [NATPMPRequest.map(.tcp, internalPort: 6881, externalPort: 46881, lifetime: 7200).encoded()])
    }

    @Test func findsTheDefaultGatewayInProcNetRoute() {
        let table = """
            Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
            eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
            eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
            """
        #expect(NATPMPPortMapper.defaultGateway(procNetRoute: table) == IPAddress("192.168.1.1"))
        #expect(NATPMPPortMapper.defaultGateway(procNetRoute: "Iface\tDestination\n") == nil)
    }
}
