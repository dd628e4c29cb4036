/// The pseudo-random functions of RFC 6330 §5.3.5: Rand, Deg and Tuple. They fix
/// which intermediate symbols each encoding symbol combines, so they must match
/// the RFC bit for bit.
enum RQRandom {
    /// Rand[y, i, m] (§5.3.5.1): a number in 0..<m.
    @inline(__always)
    static func rand(_ y: UInt32, _ i: UInt32, _ m: UInt32) -> UInt32 {
        let x0 = Int((y &+ i) & 0xFF)
        let x1 = Int(((y >> 8) &+ i) & 0xFF)
        let x2 = Int(((y >> 16) &+ i) & 0xFF)
        let x3 = Int(((y >> 24) &+ i) & 0xFF)
        return (RandTables.v0[x0] ^ RandTables.v1[x1] ^ RandTables.v2[x2] ^ RandTables.v3[x3]) % m
    }

    /// Table 1 of §5.3.5.2: f[d] bounds the 20-bit values v that give degree d.
    static let degreeBounds: [UInt32] = [
        0, 5243, 529531, 704294, 791675, 844104, 879057, 904023, 922747, 937311, 948962,
        958494, 966438, 973160, 978921, 983914, 988283, 992138, 995565, 998631, 1001391,
        1003887, 1006157, 1008229, 1010129, 1011876, 1013490, 1014983, 1016370, 1017662, 1048576,
    ]

    /// Deg[v] (§5.3.5.2) for v < 2^20, capped at W - 2.
    @inline(__always)
    static func degree(_ v: UInt32, ltSymbols w: Int) -> Int {
        var d = 1
        while v >= degreeBounds[d] { d += 1 }
        return min(d, w - 2)
    }
}

/// Tuple[K', X] (§5.3.5.4): the parameters of the encoding symbol with internal
/// symbol ID X, which Enc[] turns into a set of intermediate symbol indices.
struct EncodingTuple: Equatable, Sendable {
    var d: Int
    var a: Int
    var b: Int
    var d1: Int
    var a1: Int
    var b1: Int

    init(isi x: UInt32, parameters p: CodeParameters) {
        let j = UInt32(p.systematicIndex)
        var aa = 53591 &+ j &* 997
        if aa % 2 == 0 { aa &+= 1 }
        let bb = 10267 &* (j &+ 1)
        let y = bb &+ x &* aa
        let v = RQRandom.rand(y, 0, 1 << 20)
        d = RQRandom.degree(v, ltSymbols: p.ltSymbols)
        a = 1 + Int(RQRandom.rand(y, 1, UInt32(p.ltSymbols - 1)))
        b = Int(RQRandom.rand(y, 2, UInt32(p.ltSymbols)))
        d1 = d < 4 ? 2 + Int(RQRandom.rand(x, 3, 2)) : 2
        a1 = 1 + Int(RQRandom.rand(x, 4, UInt32(p.p1 - 1)))
        b1 = Int(RQRandom.rand(x, 5, UInt32(p.p1)))
    }

    /// Enc[] (§5.3.5.3) as a list of intermediate symbol indices: d distinct LT
    /// indices in 0..<W, then d1 distinct PI indices in W..<L. Calls `body` for each.
    @inline(__always)
    func forEachColumn(_ p: CodeParameters, _ body: (Int) -> Void) {
        let w = p.ltSymbols
        var bb = b
        body(bb)
        for _ in 1..<d {
            bb = (bb + a) % w
            body(bb)
        }
        let pi = p.piSymbols
        var b1v = b1
        while b1v >= pi { b1v = (b1v + a1) % p.p1 }
        body(w + b1v)
        for _ in 1..<d1 {
            b1v = (b1v + a1) % p.p1
            while b1v >= pi { b1v = (b1v + a1) % p.p1 }
            body(w + b1v)
        }
    }

    var columnCount: Int { d + d1 }
}
