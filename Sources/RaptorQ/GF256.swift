/// Arithmetic in the octet field of RFC 6330 §5.7: GF(2^8) modulo
/// x^8 + x^4 + x^3 + x^2 + 1 (0x11D), with α = 2 as generator.
/// Bulk operations on symbols go through CKernels; this type serves the
/// solver's matrix arithmetic, one coefficient at a time.
enum GF256 {
    /// OCT_EXP: α^i for i in 0..<510, so that exp[log a + log b] needs no reduction.
    static let exp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 510)
        var value = 1
        for i in 0..<510 {
            table[i] = UInt8(value)
            value <<= 1
            if value & 0x100 != 0 { value ^= 0x11D }
        }
        return table
    }()

    /// OCT_LOG: log_α(a) for a in 1...255 (entry 0 unused).
    static let log: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for i in 0..<255 { table[Int(exp[i])] = UInt8(i) }
        return table
    }()

    @inline(__always)
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 || b == 0 { return 0 }
        return exp[Int(log[Int(a)]) + Int(log[Int(b)])]
    }

    /// The multiplicative inverse of a non-zero octet.
    @inline(__always)
    static func inverse(_ a: UInt8) -> UInt8 {
        precondition(a != 0, "zero has no inverse in GF(256)")
        return exp[(255 - Int(log[Int(a)])) % 255]
    }

    /// α^power for any non-negative power (α has order 255).
    @inline(__always)
    static func alpha(_ power: Int) -> UInt8 { exp[power % 255] }
}
