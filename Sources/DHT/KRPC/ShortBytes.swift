/// A byte string of at most 32 bytes stored inline: transaction IDs, tokens,
/// version tags. Decoding a KRPC message does not allocate for these.
public struct ShortBytes: Hashable, Sendable, CustomStringConvertible {
    public static let capacity = 32
    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    public private(set) var count: Int = 0

    public init() {}

    /// Fails when `bytes` is longer than 32.
    public init?<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard bytes.count <= ShortBytes.capacity else { return nil }
        count = bytes.count
        withUnsafeMutableBytes(of: &storage) { raw in
            var index = 0
            for byte in bytes {
                raw[index] = byte
                index += 1
            }
        }
    }

    public init?(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) {
        guard range.count <= ShortBytes.capacity else { return nil }
        count = range.count
        if range.count > 0 {
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.baseAddress!.copyMemory(from: buffer.baseAddress! + range.lowerBound, byteCount: range.count)
            }
        }
    }

    /// Four bytes, big-endian: our transaction IDs.
    public init(uint32 value: UInt32) {
        self.init([UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                   UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])!
    }

    /// The value as a big-endian integer when it is exactly four bytes long.
    public var uint32: UInt32? {
        guard count == 4 else { return nil }
        return withUnsafeBytes { $0.reduce(0) { $0 << 8 | UInt32($1) } }
    }

    public func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try Swift.withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    public func append(to out: inout [UInt8]) {
        withUnsafeBytes { out.append(contentsOf: $0) }
    }

    public static func == (lhs: ShortBytes, rhs: ShortBytes) -> Bool {
        lhs.count == rhs.count && lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1
            && lhs.storage.2 == rhs.storage.2 && lhs.storage.3 == rhs.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }

    public var description: String {
        withUnsafeBytes { $0.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
    }
}
