import Testing
@testable import Identity

@Suite struct PublisherKeyTests {
    @Test func keyFilesRoundTripAndImportRawSeeds() throws {
        let key = Ed25519.SigningKey(seed: [UInt8](repeating: 9, count: 32))!
        let decoded = try PublisherKeyFile.decode(PublisherKeyFile.encode(key))
        #expect(decoded.publicKey == key.publicKey)
        // A raw 32-byte seed and 64 hex digits (with a newline) name the same key.
        #expect(try PublisherKeyFile.decode(key.seed).publicKey == key.publicKey)
        #expect(try PublisherKeyFile.decode(Array((String(repeating: "09", count: 32) + "\n").utf8)).publicKey == key.publicKey)
        // A node key file is not a publisher key.
        #expect(throws: PublisherKeyFile.Failure.self) { try PublisherKeyFile.decode(NodeKeyFile.encode(key)) }
        #expect(throws: PublisherKeyFile.Failure.self) { try PublisherKeyFile.decode(Array("d4:seed3:abce".utf8)) }
        #expect(throws: PublisherKeyFile.Failure.self) { try PublisherKeyFile.decode([UInt8](repeating: 1, count: 2_000)) }
    }

    @Test func keyNamesCannotLeaveTheKeyDirectory() throws {
        for good in ["talks", "my-feed_2.0"] { try PublisherKeyFile.validate(name: good) }
        for bad in ["", "../x", "a/b", ".hidden", String(repeating: "a", count: 65), "sp ace"] {
            #expect(throws: PublisherKeyFile.Failure.self) { try PublisherKeyFile.validate(name: bad) }
        }
    }
}
