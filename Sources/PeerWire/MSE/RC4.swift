/// RC4, the stream cipher MSE/PE selects with `crypto_select = 0x02`.
///
/// Between peers that choose it, every payload byte of the connection passes
/// through `apply`, so it works in place over raw buffers: the 256-byte state
/// lives in one allocation made at keying time, and the loop touches nothing
/// else (no bounds checks, no per-call allocation). RC4 is broken as a cipher;
/// MSE uses it to obfuscate, and that is all this type is for.
public final class RC4 {
    private let state: UnsafeMutablePointer<UInt8>
    private var i: UInt8 = 0
    private var j: UInt8 = 0

    /// Keys the cipher (key scheduling, 1–256 key bytes) and throws away the
    /// first `discard` bytes of keystream (MSE discards 1024).
    public init(key: [UInt8], discard: Int = 0) {
        precondition(!key.isEmpty && key.count <= 256, "RC4 takes a key of 1 to 256 bytes")
        state = .allocate(capacity: 256)
        for index in 0..<256 { state[index] = UInt8(index) }
        var j: UInt8 = 0
        for index in 0..<256 {
            j = j &+ state[index] &+ key[index % key.count]
            let swapped = state[index]
            state[index] = state[Int(j)]
            state[Int(j)] = swapped
        }
        skip(discard)
    }

    deinit { state.deallocate() }

    /// Encrypts or decrypts (the same operation) `count` bytes at `bytes`, in place.
    public func apply(_ bytes: UnsafeMutableRawPointer, count: Int) {
        apply(from: UnsafeRawPointer(bytes), to: bytes, count: count)
    }

    /// Encrypts `count` bytes from `source` into `destination` (which may be the same memory).
    public func apply(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int) {
        let s = state
        var i = self.i, j = self.j
        let input = source.assumingMemoryBound(to: UInt8.self)
        let output = destination.assumingMemoryBound(to: UInt8.self)
        for index in 0..<count {
            i = i &+ 1
            let si = s[Int(i)]
            j = j &+ si
            let sj = s[Int(j)]
            s[Int(i)] = sj
            s[Int(j)] = si
            output[index] = input[index] ^ s[Int(si &+ sj)]
        }
        self.i = i
        self.j = j
    }

    /// Convenience for small buffers (the handshake fields): in place over an array.
    public func apply(_ bytes: inout [UInt8]) {
        let count = bytes.count
        bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { apply(base, count: count) } }
    }

    /// Advances the keystream by `count` bytes without producing output.
    public func skip(_ count: Int) {
        guard count > 0 else { return }
        var scratch = [UInt8](repeating: 0, count: min(count, 1024))
        var left = count
        while left > 0 {
            let chunk = min(left, scratch.count)
            scratch.withUnsafeMutableBytes { apply($0.baseAddress!, count: chunk) }
            left -= chunk
        }
    }
}
