import Testing
@testable import Bencode

private func decode(_ text: String, _ limits: BencodeLimits = .default) throws -> BNode {
    try BencodeDecoder(limits: limits).decode(Array(text.utf8))
}

private func rejection(_ text: String, _ limits: BencodeLimits = .default) -> BencodeError? {
    do {
        _ = try decode(text, limits)
        return nil
    } catch let error as BencodeError {
        return error
    } catch {
        return nil
    }
}

@Suite("Bencode decoder")
struct BencodeDecoderTests {
    @Test("well-formed values decode to what they say", arguments: [
        ("i42e", BValue.integer(42)),
        ("i-42e", .integer(-42)),
        ("i0e", .integer(0)),
        ("i9223372036854775807e", .integer(.max)),
        ("i-9223372036854775808e", .integer(.min)),
        ("4:spam", .string("spam")),
        ("0:", .bytes([])),
        ("le", .list([])),
        ("de", .dictionary([:])),
        ("l4:spami3ee", BValue.list(["spam", 3])),
        ("d3:cow3:moo4:spaml1:a1:bee", BValue.dict(["cow": "moo", "spam": BValue.list(["a", "b"])])),
    ])
    func wellFormed(text: String, expected: BValue) throws {
        #expect(try decode(text).value == expected)
    }

    @Test("malformed shapes are rejected with the reason and the offset", arguments: [
        ("i03e", BencodeError.Reason.leadingZero, 1),
        ("i-0e", .negativeZero, 1),
        ("i-03e", .leadingZero, 2),
        ("ie", .emptyInteger, 1),
        ("i-e", .emptyInteger, 1),
        ("i12", .unexpectedEnd, 3),
        ("i1x2e", .unexpectedByte(UInt8(ascii: "x")), 2),
        ("i9223372036854775808e", .integerOverflow, 1),
        ("i-9223372036854775809e", .integerOverflow, 1),
        ("i99999999999999999999999e", .integerOverflow, 1),
        ("4:spa", .unexpectedEnd, 5),
        ("03:abc", .leadingZero, 0),
        ("-1:a", .unexpectedByte(UInt8(ascii: "-")), 0),
        ("4spam", .unexpectedByte(UInt8(ascii: "s")), 1),
        ("i1ei2e", .trailingData, 3),
        ("4:spamX", .trailingData, 6),
        ("l", .unexpectedEnd, 1),
        ("li1e", .unexpectedEnd, 4),
        ("d", .unexpectedEnd, 1),
        ("d1:a", .unexpectedEnd, 4),
        ("di1ei2ee", .nonStringKey, 1),
        ("dlei2ee", .nonStringKey, 1),
        ("d1:a0:1:a0:e", .duplicateKey, 6),
        ("d1:b0:1:a0:1:b0:e", .duplicateKey, 11),
        ("x", .unexpectedByte(UInt8(ascii: "x")), 0),
        ("", .unexpectedEnd, 0),
        ("e", .unexpectedByte(UInt8(ascii: "e")), 0),
    ])
    func malformed(text: String, reason: BencodeError.Reason, offset: Int) {
        let error = rejection(text)
        #expect(error == BencodeError(reason, at: offset), "input \(text)")
    }

    @Test("unsorted keys: accepted by default, rejected when sorted keys are required")
    func unsortedKeys() throws {
        let node = try decode("d1:b1:x1:a1:ye")
        #expect(node["a"]?.string == "y")
        #expect(node["b"]?.string == "x")
        #expect(node.entries?.map { String(decoding: $0.key, as: UTF8.self) } == ["b", "a"])
        var strict = BencodeLimits()
        strict.requireSortedKeys = true
        #expect(rejection("d1:b1:x1:a1:ye", strict) == BencodeError(.unsortedKey, at: 7))
        #expect(try decode("d1:a1:y1:b1:xe", strict)["b"]?.string == "x")
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow")
    func deepNesting() {
        let deep = String(repeating: "l", count: 1000) + String(repeating: "e", count: 1000)
        #expect(rejection(deep) == BencodeError(.nestingTooDeep(limit: 64), at: 64))
        let dicts = String(repeating: "d1:a", count: 1000) + "i0e" + String(repeating: "e", count: 1000)
        #expect(rejection(dicts)?.reason == .nestingTooDeep(limit: 64))
        let fits = String(repeating: "l", count: 64) + String(repeating: "e", count: 64)
        #expect(rejection(fits) == nil)
    }

    @Test("string lengths are checked before anything is allocated")
    func stringLengthBounds() {
        // Claimed lengths beyond the limit or the input: refused without trying to allocate them.
        #expect(rejection("99999999999999:abc") == BencodeError(.stringTooLong(length: 99_999_999_999_999, limit: 64 << 20), at: 0))
        #expect(rejection("100:abc") == BencodeError(.unexpectedEnd, at: 7))
        var limits = BencodeLimits()
        limits.maxStringLength = 8
        #expect(rejection("9:123456789", limits) == BencodeError(.stringTooLong(length: 9, limit: 8), at: 0))
        #expect(rejection("8:12345678", limits) == nil)
        #expect(rejection("99999999999999999999999:x")?.reason == .integerOverflow)
    }

    @Test("every value keeps the exact bytes it was decoded from")
    func rawSpans() throws {
        // The info dict here is not canonical (keys out of order): its span must keep it as is.
        let text = "d4:infod1:bi1e1:ai2ee3:zzzi0ee"
        let bytes = Array(text.utf8)
        let root = try BencodeDecoder().decode(bytes)
        let info = try #require(root["info"])
        #expect(String(decoding: bytes[info.span], as: UTF8.self) == "d1:bi1e1:ai2ee")
        #expect(info.value.encoded != Array(bytes[info.span]))  // re-encoding would change the hash
        #expect(root.span == 0..<bytes.count)
        #expect(root["zzz"]?.span == 26..<29)
    }

    @Test("decodePrefix reports where the value ends, for headers followed by payload")
    func prefix() throws {
        let bytes = Array("d8:msg_typei1e5:piecei0eeRAWPAYLOAD".utf8)
        let (node, end) = try BencodeDecoder().decodePrefix(bytes)
        #expect(node["msg_type"]?.integer == 1)
        #expect(String(decoding: bytes[end...], as: UTF8.self) == "RAWPAYLOAD")
    }

    @Test("byte strings may hold any bytes, including invalid UTF-8")
    func binaryStrings() throws {
        let bytes: [UInt8] = [UInt8(ascii: "3"), UInt8(ascii: ":"), 0xFF, 0x00, 0xC3]
        let node = try BencodeDecoder().decode(bytes)
        #expect(node.bytes == [0xFF, 0x00, 0xC3])
        #expect(node.string == nil)
    }
}
