import Foundation
import Metainfo
@testable import PeerWire
import Testing

private func hex(_ string: String) -> [UInt8] { Hex.decode(string)! }

/// Known answers computed independently (Python: `pow`, hashlib, the
/// `cryptography` package's ARC4) for fixed private keys.
private enum Vectors {
    static let privateA = Array(UInt8(0x01)...UInt8(0x14))
    static let privateB = Array(UInt8(0x15)...UInt8(0x28))
    static let publicA = hex("96e112dab29e8c5272accb9b17b26887ce54a144a4e3b697c7d159b7a817e556b0918db2b4c658e02a87f7e5fb14b18a553e084cbf3dad2d30f16596ccb982d406258c61b30c5c1dae2ddc60bdbd48d79896312aad63238c39e1a633821eb693")
    static let publicB = hex("a3e981e821087e74b889c5bfc373ec5be9ed09c85282b9cdb6b07dbaabe0ee5138a91e6245657219d1019ce47ed3613f037c6932a69069a3928b146b354e79cbfeaad601d12598943c43b5b5529915b2c604e43fd6f9ced4efbe68f9edfaeee7")
    static let secret = hex("994aac6c359990cf4f678a1742b587eb1a5248ec7fcc0d0bcfcb12d2461bc1fe25417b70869697d9ca884832f1c5f2a2fd3318c22a5a6ba170d36aac91405457c1e8137b1534a776865ed353f12422ff6afc58435f8bd443f61dd051a37bcdeb")
    static let infoHash = InfoHash(bytes: hex("dc3822ce590e1a9eed81fd542a641ad72b643ac7"))!
    static let req1 = hex("83c8d8a3d91a5bf40d723666c4258731c8427ccb")
    static let req2XorReq3 = hex("7937dac2e6566143c8b775ddb8254f448c33f763")
    static let keyA = hex("e9f826395ae3a044cd3b42b948c70cae11710caf")
    static let keyB = hex("0c0c4da06bf6637cffc24feea95df6eea3f54447")
    /// The first 16 keystream bytes after the 1024 discarded.
    static let keystreamA = hex("c5fbe4946526f2593b71f943e9eabd54")
    static let keystreamB = hex("0a803b0115e982f41ae6a557f9487668")
}

@Suite("RC4")
struct RC4Tests {
    @Test("classic known answers")
    func classicVectors() {
        for (key, plaintext, expected) in [("Key", "Plaintext", "bbf316e8d940af0ad3"), ("Wiki", "pedia", "1021bf0420"),
                                           ("Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5")] {
            var bytes = Array(plaintext.utf8)
            RC4(key: Array(key.utf8)).apply(&bytes)
            #expect(bytes == hex(expected), "\(key)")
        }
    }

    @Test("RFC 6229 key 0x0102030405 at offsets 0 and 1024 (the discard MSE uses)")
    func rfc6229() {
        var start = [UInt8](repeating: 0, count: 16)
        RC4(key: [1, 2, 3, 4, 5]).apply(&start)
        #expect(start == hex("b2396305f03dc027ccc3524a0a1118a8"))
        var afterDiscard = [UInt8](repeating: 0, count: 16)
        RC4(key: [1, 2, 3, 4, 5], discard: 1024).apply(&afterDiscard)
        #expect(afterDiscard == hex("30abbcc7c20b01609f23ee2d5f6bb7df"))
    }

    @Test("a stream split across calls equals one call; source-to-destination equals in place")
    func chunking() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var whole = data
        RC4(key: [9, 8, 7]).apply(&whole)
        let split = RC4(key: [9, 8, 7])
        var pieces: [UInt8] = []
        var offset = 0
        for size in [1, 15, 1000, 3, 8981] {
            var chunk = Array(data[offset..<offset + size])
            split.apply(&chunk)
            pieces += chunk
            offset += size
        }
        #expect(pieces == whole)
        var copied = [UInt8](repeating: 0, count: data.count)
        let cipher = RC4(key: [9, 8, 7])
        data.withUnsafeBytes { source in
            copied.withUnsafeMutableBytes { cipher.apply(from: source.baseAddress!, to: $0.baseAddress!, count: data.count) }
        }
        #expect(copied == whole)
    }
}

@Suite("MSE key exchange")
struct MSEKeyExchangeTests {
    @Test("public keys, shared secret, hashes and RC4 keys match independent known answers")
    func knownAnswers() throws {
        let a = MSEKeyExchange(privateKey: Vectors.privateA)
        let b = MSEKeyExchange(privateKey: Vectors.privateB)
        #expect(a.publicKey == Vectors.publicA)
        #expect(b.publicKey == Vectors.publicB)
        #expect(try a.sharedSecret(peerPublicKey: b.publicKey) == Vectors.secret)
        #expect(try b.sharedSecret(peerPublicKey: a.publicKey) == Vectors.secret)
        #expect(MSEHashes.req1(secret: Vectors.secret) == Vectors.req1)
        let masked = zip(MSEHashes.req2(infoHash: Vectors.infoHash), MSEHashes.req3(secret: Vectors.secret)).map { $0 ^ $1 }
        #expect(masked == Vectors.req2XorReq3)
        #expect(MSEHashes.keyA(secret: Vectors.secret, infoHash: Vectors.infoHash) == Vectors.keyA)
        #expect(MSEHashes.keyB(secret: Vectors.secret, infoHash: Vectors.infoHash) == Vectors.keyB)
        let initiator = MSEHashes.ciphers(secret: Vectors.secret, infoHash: Vectors.infoHash, initiator: true)
        var streamA = [UInt8](repeating: 0, count: 16), streamB = streamA
        initiator.outgoing.apply(&streamA)
        initiator.incoming.apply(&streamB)
        #expect(streamA == Vectors.keystreamA)
        #expect(streamB == Vectors.keystreamB)
    }

    @Test("degenerate public keys are refused: 0, 1, P−1, P and above")
    func degenerateKeys() {
        let keys = MSEKeyExchange(privateKey: Vectors.privateA)
        let primeHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
            + "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563"
        let prime = hex(primeHex)
        let primeMinusOne = Array(prime.dropLast()) + [prime.last! - 1]
        for bad in [[UInt8](repeating: 0, count: 96), [UInt8](repeating: 0, count: 95) + [1], primeMinusOne, prime,
                    [UInt8](repeating: 0xff, count: 96)] {
            #expect(throws: MSEError.invalidPublicKey) { try keys.sharedSecret(peerPublicKey: bad) }
        }
    }
}
