/// Canonical bencoding: integers without leading zeros, dictionary keys in
/// bytewise ascending order. Decoding the output with `BencodeDecoder` and
/// re-encoding gives the same bytes.
extension BValue {
    /// The canonical encoding of this value.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Appends the canonical encoding of this value to `out`.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .integer(let value):
            out.append(UInt8(ascii: "i"))
            appendDecimal(value, to: &out)
            out.append(UInt8(ascii: "e"))
        case .bytes(let bytes):
            BValue.appendByteString(bytes, to: &out)
        case .list(let items):
            out.append(UInt8(ascii: "l"))
            for item in items { item.encode(into: &out) }
            out.append(UInt8(ascii: "e"))
        case .dictionary(let entries):
            out.append(UInt8(ascii: "d"))
            for key in entries.keys.sorted(by: BValue.bytewiseLess) {
                BValue.appendByteString(key, to: &out)
                entries[key]!.encode(into: &out)
            }
            out.append(UInt8(ascii: "e"))
        }
    }

    /// Appends `<length>:<bytes>`; exposed so hot paths can write bencode by hand.
    public static func appendByteString<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        appendDecimal(Int64(bytes.count), to: &out)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: bytes)
    }

    /// The order BEP 3 requires for dictionary keys: raw bytes, not text collation.
    public static func bytewiseLess(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        lhs.lexicographicallyPrecedes(rhs)
    }
}

/// Writes a decimal integer without going through `String`, which would allocate.
public func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
    if value == 0 {
        out.append(UInt8(ascii: "0"))
        return
    }
    if value < 0 { out.append(UInt8(ascii: "-")) }
    // Int64.min has no positive counterpart, so work with the magnitude as UInt64.
    var magnitude = value.magnitude
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    withUnsafeMutableBytes(of: &digits) { buffer in
        while magnitude > 0 {
            buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            count += 1
        }
        for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
    }
}
