import Bencode
import Identity
import NIOCore
import PeerWire
import Testing

@Suite struct PexMessageTests {
    static let v4 = PeerAddress(ip: IPAddress("192.0.2.7")!, port: 6881)
    static let v4b = PeerAddress(ip: IPAddress("198.51.100.1")!, port: 51413)
    static let v6 = PeerAddress(ip: IPAddress("2001:db8::1")!, port: 443)

    static func decode(_ dict: [String: BValue]) throws -> UTPex.Message {
        try UTPex.decode(ByteBuffer(bytes: BValue.dict(dict).encoded))
    }

    @Test func roundTripKeepsBothFamiliesAndTheirFlags() throws {
        let message = UTPex.Message(added: [UTPex.AddedPeer(Self.v4, flags: [.seed, .reachable]),
                                            UTPex.AddedPeer(Self.v6, flags: [.prefersEncryption])],
                                    dropped: [Self.v4b])
        let decoded = try UTPex.decode(ByteBuffer(bytes: UTPex.encode(message)))
        #expect(decoded == message)
    }

    @Test func theWireFormatIsBEP11sCompactLists() throws {
        let encoded = UTPex.encode(UTPex.Message(added: [UTPex.AddedPeer(Self.v4, flags: .seed)], dropped: [Self.v6]))
        let root = try BencodeDecoder().decode(encoded)
        #expect(root["added"]?.bytes == [192, 0, 2, 7, 0x1A, 0xE1])
        #expect(root["added.f"]?.bytes == [0x02])
        #expect(root["dropped6"]?.bytes == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1, 0x01, 0xBB])
        #expect(root["added6"]?.bytes == [])
    }

    @Test func missingListsAreEmptyAndMissingFlagsAreNone() throws {
        let decoded = try Self.decode(["added": .bytes([192, 0, 2, 7, 0x1A, 0xE1, 198, 51, 100, 1, 0xC8, 0xD5]),
                                       "added.f": .bytes([0x10]), "something else": 1])
        #expect(decoded.added == [UTPex.AddedPeer(Self.v4, flags: .reachable), UTPex.AddedPeer(Self.v4b)])
        #expect(decoded.dropped.isEmpty)
    }

    @Test func malformedMessagesAreErrors() {
        #expect(throws: PeerWireError.self) { try UTPex.decode(ByteBuffer(bytes: Array("not bencode".utf8))) }
        #expect(throws: PeerWireError.self) { try UTPex.decode(ByteBuffer(bytes: BValue.list([]).encoded)) }
        #expect(throws: PeerWireError.self, "7 bytes are no list of 6-byte entries") {
            try Self.decode(["added": .bytes([1, 2, 3, 4, 5, 6, 7])])
        }
        #expect(throws: PeerWireError.self, "IPv6 entries are 18 bytes") { try Self.decode(["dropped6": .bytes([UInt8](repeating: 1, count: 6))]) }
        #expect(throws: PeerWireError.self) { try Self.decode(["added": 5]) }
        #expect(throws: PeerWireError.self, "too long to be honest") {
            try UTPex.decode(ByteBuffer(bytes: [UInt8](repeating: 0x30, count: UTPex.maxEncodedLength + 1)))
        }
    }

    @Test func atMostTheBoundOfEntriesIsKeptPerList() throws {
        var bytes: [UInt8] = []
        for index in 0..<(UTPex.maxEntriesPerList + 50) {
            PeerAddress(ip: .v4(0x0A00_0000 | UInt32(index)), port: 1000).appendCompact(to: &bytes)
        }
        let decoded = try Self.decode(["added": .bytes(bytes), "dropped": .bytes(bytes)])
        #expect(decoded.added.count == UTPex.maxEntriesPerList)
        #expect(decoded.dropped.count == UTPex.maxEntriesPerList)
    }

    @Test func theRegistryOffersUTPexOnlyWhenAsked() {
        #expect(ExtensionRegistry.offered(fountain: true, pex: true).localIDs[UTPex.extensionName] != nil)
        #expect(ExtensionRegistry.offered(fountain: true, pex: false).localIDs[UTPex.extensionName] == nil, "--no-pex")
        #expect(ExtensionRegistry.offered(fountain: false, pex: true).localIDs[BFFountain.extensionName] == nil)
    }
}
