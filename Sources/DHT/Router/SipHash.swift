/// SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash that is fast on
/// short inputs and cannot be steered by whoever picks the input without the
/// key. The router uses it for its SYN cookies and to spread addresses over
/// its fixed-size tables, where an attacker who could aim at one slot would
/// otherwise push everyone else out.
public struct SipHash: Sendable, Hashable {
    public let key0: UInt64
    public let key1: UInt64

    public init(key0: UInt64, key1: UInt64) {
        self.key0 = key0
        self.key1 = key1
    }

    /// The hash of up to three 64-bit words (fed little-endian, 8 bytes each)
    /// and a final length-tagged block, as SipHash of the 8·`count`-byte message.
    @inline(__always)
    public func hash(_ a: UInt64, _ b: UInt64, _ c: UInt64, count: Int = 3) -> UInt64 {
        var state = State(key0: key0, key1: key1)
        if count > 0 { state.compress(a) }
        if count > 1 { state.compress(b) }
        if count > 2 { state.compress(c) }
        return state.finish(lastBlock: UInt64(truncatingIfNeeded: count * 8) << 56)
    }

    /// The hash of arbitrary bytes (tests check it against the reference vectors).
    public func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = State(key0: key0, key1: key1)
        let whole = bytes.count / 8
        for block in 0..<whole {
            var word: UInt64 = 0
            for index in 0..<8 { word |= UInt64(bytes[block * 8 + index]) << UInt64(8 * index) }
            state.compress(word)
        }
        var last = UInt64(truncatingIfNeeded: bytes.count) << 56
        for index in 0..<(bytes.count % 8) { last |= UInt64(bytes[whole * 8 + index]) << UInt64(8 * index) }
        return state.finish(lastBlock: last)
    }

    private struct State {
        var v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64

        @inline(__always)
        init(key0: UInt64, key1: UInt64) {
            v0 = key0 ^ 0x736f_6d65_7073_6575
            v1 = key1 ^ 0x646f_7261_6e64_6f6d
            v2 = key0 ^ 0x6c79_6765_6e65_7261
            v3 = key1 ^ 0x7465_6462_7974_6573
        }

        @inline(__always)
        mutating func round() {
            v0 = v0 &+ v1; v1 = rotate(v1, 13); v1 ^= v0; v0 = rotate(v0, 32)
            v2 = v2 &+ v3; v3 = rotate(v3, 16); v3 ^= v2
            v0 = v0 &+ v3; v3 = rotate(v3, 21); v3 ^= v0
            v2 = v2 &+ v1; v1 = rotate(v1, 17); v1 ^= v2; v2 = rotate(v2, 32)
        }

        @inline(__always)
        mutating func compress(_ word: UInt64) {
            v3 ^= word
            round(); round()
            v0 ^= word
        }

        @inline(__always)
        mutating func finish(lastBlock: UInt64) -> UInt64 {
            compress(lastBlock)
            v2 ^= 0xFF
            round(); round(); round(); round()
            return v0 ^ v1 ^ v2 ^ v3
        }

        @inline(__always)
        private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 { value << count | value >> (64 - count) }
    }
}
