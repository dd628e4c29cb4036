import Identity
import NIOCore
import PeerWire
import Testing

@Suite struct HolepunchMessageTests {
    static let v4 = PeerAddress(ip: IPAddress("192.0.2.7")!, port: 6881)
    static let v6 = PeerAddress(ip: IPAddress("2001:db8::1")!, port: 443)

    static func decode(_ bytes: [UInt8]) throws -> UTHolepunch.Message {
        try UTHolepunch.decode(ByteBuffer(bytes: bytes))
    }

    @Test func everyMessageRoundTripsInBothFamilies() throws {
        let messages: [UTHolepunch.Message] = [
            .rendezvous(Self.v4), .connect(Self.v4), .error(Self.v4, .noSupport),
            .rendezvous(Self.v6), .connect(Self.v6), .error(Self.v6, .noSelf), .error(Self.v4, .other(77)),
        ]
        for message in messages {
            #expect(try Self.decode(UTHolepunch.encode(message)) == message)
        }
    }

    @Test func theWireFormatIsBEP55s() {
        #expect(UTHolepunch.encode(.rendezvous(Self.v4)) == [0, 0, 192, 0, 2, 7, 0x1A, 0xE1, 0, 0, 0, 0])
        #expect(UTHolepunch.encode(.error(Self.v4, .notConnected)) == [2, 0, 192, 0, 2, 7, 0x1A, 0xE1, 0, 0, 0, 2])
        let v6 = UTHolepunch.encode(.connect(Self.v6))
        #expect(v6.count == 24)
        #expect(Array(v6.prefix(6)) == [1, 1, 0x20, 0x01, 0x0D, 0xB8])
        #expect(Array(v6.suffix(6)) == [0x01, 0xBB, 0, 0, 0, 0])
    }

    @Test func errorCodesAreBEP55sNumbers() {
        #expect([UTHolepunch.ErrorCode.noSuchPeer, .notConnected, .noSupport, .noSelf].map(\.code) == [1, 2, 3, 4])
        #expect(UTHolepunch.ErrorCode(code: 3) == .noSupport)
        #expect(UTHolepunch.ErrorCode(code: 9) == .other(9))
    }

    @Test func libtorrentsShortFormWithoutTheErrorFieldIsAccepted() throws {
        // libtorrent 2.0 writes type, address type, address and port only, except in errors.
        #expect(try Self.decode([1, 0, 192, 0, 2, 7, 0x1A, 0xE1]) == .connect(Self.v4))
        #expect(try Self.decode(Array(UTHolepunch.encode(.rendezvous(Self.v6)).dropLast(4))) == .rendezvous(Self.v6))
        #expect(throws: PeerWireError.self, "an error needs its code") { try Self.decode([2, 0, 192, 0, 2, 7, 0x1A, 0xE1]) }
    }

    @Test(arguments: [
        [],                                              // empty
        [0],                                             // no address type
        [0, 0, 192, 0, 2, 7, 0x1A, 0xE1, 0, 0, 0],       // one byte short
        [0, 0, 192, 0, 2, 7, 0x1A, 0xE1, 0, 0, 0, 0, 0], // one byte too many
        [0, 2, 192, 0, 2, 7, 0x1A, 0xE1, 0, 0, 0, 0],    // unknown address type
        [3, 0, 192, 0, 2, 7, 0x1A, 0xE1, 0, 0, 0, 0],    // unknown message type
        [0, 0, 192, 0, 2, 7, 0, 0, 0, 0, 0, 0],          // port 0
    ] as [[UInt8]])
    func malformedMessagesAreRefused(_ bytes: [UInt8]) {
        #expect(throws: PeerWireError.self) { try Self.decode(bytes) }
    }

    @Test func anAddressTypeThatDisagreesWithTheLengthIsRefused() {
        // IPv4 type with an IPv6 address's bytes, and the other way round.
        var v4Claiming16 = UTHolepunch.encode(.connect(Self.v6))
        v4Claiming16[1] = 0
        #expect(throws: PeerWireError.self) { try Self.decode(v4Claiming16) }
        var v6Claiming4 = UTHolepunch.encode(.connect(Self.v4))
        v6Claiming4[1] = 1
        #expect(throws: PeerWireError.self) { try Self.decode(v6Claiming4) }
    }

    @Test func aLargePayloadIsRefusedWithoutBeingRead() {
        #expect(throws: PeerWireError.self) { try Self.decode([0, 1] + [UInt8](repeating: 0xFF, count: 1 << 16)) }
    }
}

@Suite struct HolepunchRegistryTests {
    @Test func ut_holepunchIsOfferedWhenAskedForOnly() {
        let on = ExtensionRegistry.offered(fountain: true, pex: true, holepunch: true)
        #expect(on.localIDs[UTHolepunch.extensionName] != nil)
        #expect(on.name(forLocalID: on.localIDs[UTHolepunch.extensionName]!) == UTHolepunch.extensionName)
        #expect(ExtensionRegistry.offered(fountain: true, pex: true).localIDs[UTHolepunch.extensionName] == nil, "--no-utp")
        #expect(Set(on.localIDs.values).count == on.localIDs.count, "every extension has its own ID")
    }
}
