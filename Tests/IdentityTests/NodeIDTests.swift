import Testing
@testable import Identity

@Suite struct NodeIDTests {
    @Test func bytesRoundTrip() {
        let bytes: [UInt8] = (0..<20).map { UInt8($0 * 13 & 0xFF) }
        let id = NodeID(bytes: bytes)!
        #expect(id.bytes == bytes)
        #expect(NodeID(hex: id.hex) == id)
        #expect(NodeID(bytes: bytes.dropLast()) == nil)
        #expect(NodeID(hex: "zz") == nil)
    }

    @Test func xorDistanceAndOrdering() {
        let a = NodeID(hex: "ff00000000000000000000000000000000000000")!
        let b = NodeID(hex: "0f00000000000000000000000000000000000001")!
        #expect((a ^ b).hex == "f000000000000000000000000000000000000001")
        #expect((a ^ a) == .zero)
        #expect(b < a)
        #expect(a.commonPrefixLength(with: b) == 0)
        #expect(NodeID.zero.leadingZeroBitCount == 160)
        #expect(NodeID(high: 0, middle: 0, low: 1).leadingZeroBitCount == 159)
        let target = NodeID.zero
        #expect(b.isCloser(to: target, than: a))
    }

    @Test func bitsMasksAndShifts() {
        let id = NodeID(hex: "8000000000000000000000000000000000000001")!
        #expect(id.bit(0) && id.bit(159) && !id.bit(1))
        #expect(NodeID.prefixMask(4).hex == "f000000000000000000000000000000000000000")
        #expect(NodeID.prefixMask(160) == NodeID(high: .max, middle: .max, low: .max))
        #expect(id.shiftedRight(1).hex == "4000000000000000000000000000000000000000")
        #expect(id.shiftedLeft(159).hex == "8000000000000000000000000000000000000000")
        #expect(id.flippingBit(0).flippingBit(0) == id)
        let random = NodeID(hex: "0123456789abcdef0123456789abcdef01234567")!
        let kept = NodeID.zero.keepingPrefix(8, randomRest: random)
        #expect(kept.hex == "0023456789abcdef0123456789abcdef01234567")
    }
}

@Suite struct IPAddressTests {
    @Test func parsesAndFormats() {
        #expect(IPAddress("127.0.0.1") == .v4(0x7F00_0001))
        #expect(IPAddress("127.0.0.1")?.description == "127.0.0.1")
        #expect(IPAddress("::1") == .v6(0, 1))
        #expect(IPAddress("2001:db8::5")?.description == "2001:db8::5")
        #expect(IPAddress("example.com") == nil)
        #expect(IPAddress("1.2.3.4")?.bytes == [1, 2, 3, 4])
        #expect(IPAddress(bytes: [1, 2, 3, 4]) == IPAddress("1.2.3.4"))
    }

    @Test func classifiesRanges() {
        for local in ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.3.3", "127.0.0.1", "::1", "fd00::1", "fe80::1"] {
            #expect(IPAddress(local)!.isLocal, "\(local)")
        }
        for global in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "124.31.75.21"] {
            #expect(!IPAddress(global)!.isLocal, "\(global)")
        }
        #expect(IPAddress("0.0.0.0")!.isUnroutable)
        #expect(IPAddress("224.0.0.1")!.isUnroutable)
        #expect(IPAddress("::")!.isUnroutable)
        #expect(!IPAddress("8.8.8.8")!.isUnroutable)
        #expect(IPAddress("1.2.3.4")!.networkPrefix == IPAddress("1.2.3.200")!.networkPrefix)
    }
}
