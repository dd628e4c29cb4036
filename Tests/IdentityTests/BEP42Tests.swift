import Testing
@testable import Identity

@Suite struct BEP42Tests {
    @Test func crc32cCheckValue() {
        // The standard check value of CRC-32C.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func prefixesMatchPublishedExamples() {
        // CRCs for the BEP 42 example addresses (r = the example's random byte).
        #expect(BEP42.crc(for: IPAddress("124.31.75.21")!, r: 1) == 0x5FBF_BDB2)
        #expect(BEP42.crc(for: IPAddress("21.75.31.124")!, r: 86) == 0x5A3C_E9B0)
        #expect(BEP42.crc(for: IPAddress("65.23.51.170")!, r: 22) == 0xA5D4_344A)
    }

    @Test func publishedExampleIDsAreValid() {
        let examples = [
            ("124.31.75.21", "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"),
            ("21.75.31.124", "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"),
            ("65.23.51.170", "a5d43220bc8f112a3d426c84764f8c2a1150e616"),
            ("84.124.73.14", "1b0321dd1bb1fe518101ceef99462b947a01ff41"),
            ("43.213.53.83", "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"),
        ]
        for (ip, hex) in examples {
            let id = NodeID(hex: hex)!
            #expect(BEP42.isValid(id, for: IPAddress(ip)!), "\(ip)")
            #expect(!BEP42.isValid(id.flippingBit(3), for: IPAddress(ip)!), "\(ip) with a flipped prefix bit")
        }
        // Local addresses are exempt.
        #expect(BEP42.isValid(.zero, for: IPAddress("192.168.0.9")!))
    }
}
