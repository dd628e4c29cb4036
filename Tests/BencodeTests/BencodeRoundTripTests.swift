import Testing
import Metainfo
@testable import Bencode

private func randomValue(depth: Int, using rng: inout SplitMix64) -> BValue {
    let choice = depth > 4 ? Int.random(in: 0...1, using: &rng) : Int.random(in: 0...3, using: &rng)
    switch choice {
    case 0:
        let extremes: [Int64] = [0, -1, 1, .max, .min]
        return .integer(Bool.random(using: &rng) ? extremes.randomElement(using: &rng)! : Int64.random(in: .min ... .max, using: &rng))
    case 1:
        return .bytes((0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
    case 2:
        return .list((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(depth: depth + 1, using: &rng) })
    default:
        var entries: [[UInt8]: BValue] = [:]
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            let key = (0..<Int.random(in: 0...6, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            entries[key] = randomValue(depth: depth + 1, using: &rng)
        }
        return .dictionary(entries)
    }
}

@Suite("Bencode round trips")
struct BencodeRoundTripTests {
    @Test("decode(encode(v)) == v, and the encoding is canonical (strict decoding accepts it)")
    func property() throws {
        var rng = SplitMix64(seed: 2026)
        var strict = BencodeLimits()
        strict.requireSortedKeys = true
        for _ in 0..<2000 {
            let value = randomValue(depth: 0, using: &rng)
            let bytes = value.encoded
            let node = try BencodeDecoder(limits: strict).decode(bytes)
            #expect(node.value == value)
            #expect(node.value.encoded == bytes)
            #expect(node.span == 0..<bytes.count)
        }
    }

    @Test("known encodings", arguments: [
        (BValue.integer(-7), "i-7e"),
        (.string("spam"), "4:spam"),
        (BValue.dict(["b": 1, "a": "x", "ab": BValue.list([])]), "d1:a1:x2:able1:bi1ee"),
        (BValue.list([BValue.list([]), BValue.list(["x"])]), "llel1:xee"),
    ])
    func knownEncodings(value: BValue, text: String) {
        #expect(String(decoding: value.encoded, as: UTF8.self) == text)
    }

    @Test("keys sort by raw bytes, not by text collation")
    func bytewiseKeyOrder() {
        let value = BValue.dictionary([[0xC3, 0xA9]: 1, [0x7A]: 2, [0x5A]: 3])  // "é", "z", "Z"
        #expect(value.encoded == Array("d1:Zi3e1:zi2e2:".utf8) + [0xC3, 0xA9] + Array("i1ee".utf8))
    }
}
