import Testing
@testable import Identity

@Suite struct Ed25519Tests {
    @Test func rfc8032TestVector1() {
        let seed = HexDigits.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!
        let key = Ed25519.SigningKey(seed: seed)!
        #expect(key.publicKey.description == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let signature = key.sign([UInt8]())
        #expect(HexDigits.encode(signature) == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(Ed25519.isValid(signature: signature, message: [], publicKey: key.publicKey.bytes))
        #expect(!Ed25519.isValid(signature: signature, message: [1], publicKey: key.publicKey.bytes))
        #expect(!Ed25519.isValid(signature: Array(signature.dropLast()), message: [], publicKey: key.publicKey.bytes))
    }

    @Test func generatedKeysDiffer() {
        #expect(Ed25519.SigningKey.generate().publicKey != Ed25519.SigningKey.generate().publicKey)
        #expect(Ed25519.SigningKey(seed: [1, 2, 3]) == nil)
    }

    @Test func keyFileRoundTrip() throws {
        let key = Ed25519.SigningKey.generate()
        let decoded = try NodeKeyFile.decode(NodeKeyFile.encode(key))
        #expect(decoded.publicKey == key.publicKey)
        #expect(throws: NodeKeyFile.Failure.self) { try NodeKeyFile.decode(Array("garbage".utf8)) }
        #expect(throws: NodeKeyFile.Failure.self) { try NodeKeyFile.decode(Array("d6:format11:bf-node-key4:seed3:abc7:versioni1ee".utf8)) }
    }

    @Test func krpcPayloadLayout() {
        let payload = KRPCSignature.payload(transactionID: [0xAA, 0xBB], type: UInt8(ascii: "q"),
                                            method: Array("ping".utf8), body: Array("d2:id0:e".utf8))
        var expected: [UInt8] = [0, 9] + Array("bf-krpc-1".utf8)
        expected += [0, 2, 0xAA, 0xBB, 0, 1, UInt8(ascii: "q"), 0, 4] + Array("ping".utf8)
        expected += [0, 8] + Array("d2:id0:e".utf8)
        #expect(payload == expected)
    }
}

@Suite struct SignedNodeIDTests {
    let key = Ed25519.SigningKey(seed: [UInt8](repeating: 7, count: 32))!

    @Test func idWithoutExternalIPIsKeyBound() {
        let id = SignedNodeID.derive(publicKey: key.publicKey, externalIP: nil)
        #expect(SignedNodeID.check(id, publicKey: key.publicKey, source: IPAddress("127.0.0.1")!) == .ipBound)
        #expect(SignedNodeID.check(id, publicKey: key.publicKey, source: IPAddress("8.8.8.8")!) == .keyOnly)
        let other = Ed25519.SigningKey(seed: [UInt8](repeating: 8, count: 32))!
        #expect(SignedNodeID.check(id, publicKey: other.publicKey, source: IPAddress("127.0.0.1")!) == .mismatch)
        // The last byte is r from the key hash, so the ID is a pure function of the key.
        #expect(SignedNodeID.derive(publicKey: key.publicKey, externalIP: nil) == id)
    }

    @Test func idForPublicAddressIsBEP42Valid() {
        let ip = IPAddress("124.31.75.21")!
        let id = SignedNodeID.derive(publicKey: key.publicKey, externalIP: ip)
        #expect(BEP42.isValid(id, for: ip))
        #expect(SignedNodeID.check(id, publicKey: key.publicKey, source: ip) == .ipBound)
        // Seen from another public address, the prefix matches neither form.
        #expect(SignedNodeID.check(id, publicKey: key.publicKey, source: IPAddress("21.75.31.124")!) == .mismatch)
        // The key bits are the same whatever the address.
        let plain = SignedNodeID.derive(publicKey: key.publicKey, externalIP: nil)
        #expect(id & SignedNodeID.keyBitsMask == plain & SignedNodeID.keyBitsMask)
    }

    @Test func anyFlippedKeyBitIsAMismatch() {
        let id = SignedNodeID.derive(publicKey: key.publicKey, externalIP: nil)
        for bit in [21, 60, 100, 151] {
            #expect(SignedNodeID.check(id.flippingBit(bit), publicKey: key.publicKey, source: IPAddress("10.0.0.1")!) == .mismatch)
        }
        // The last byte (r) is not checked: it only selects one of BEP 42's eight prefixes.
        #expect(SignedNodeID.check(id.flippingBit(159), publicKey: key.publicKey, source: IPAddress("10.0.0.1")!) == .ipBound)
    }
}
