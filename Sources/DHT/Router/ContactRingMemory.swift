import Identity

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a router keeps its contacts: one flat region of fixed-size entries
/// per address family. The runtime backs it with a shared memory-mapped file
/// (so the kernel keeps every admitted contact even across `kill -9`); tests
/// and benchmarks use `HeapRingMemory`. Workers each own a disjoint range of
/// entries, so the region is never written by two threads.
public protocol ContactRingMemory: AnyObject, Sendable {
    var family: IPAddress.Family { get }
    /// The first entry; `entryCount` entries of `ContactRingLayout.entrySize(family)` bytes follow.
    var entries: UnsafeMutableRawPointer { get }
    var entryCount: Int { get }
}

/// Zeroed heap memory for a ring that is not persisted.
public final class HeapRingMemory: ContactRingMemory, @unchecked Sendable {
    public let family: IPAddress.Family
    public let entries: UnsafeMutableRawPointer
    public let entryCount: Int

    public init(family: IPAddress.Family, entryCount: Int) {
        self.family = family
        self.entryCount = max(0, entryCount)
        // calloc: untouched pages stay unbacked until a contact lands on them.
        entries = calloc(max(1, self.entryCount), ContactRingLayout.entrySize(family))!
    }

    deinit { free(entries) }
}

/// The layout of one ring entry. The first bytes are the contact exactly as
/// BEP 5 lists it ("compact node info": ID, address, port, big-endian), so a
/// reply copies them straight from the ring:
///
///     IPv4, 32 bytes: [0,26) compact node  [26,28) check  [28,32) last seen
///     IPv6, 48 bytes: [0,38) compact node  [38,40) check  [40,44) last seen  [44,48) zero
///
/// "Last seen" is Unix time in seconds (little-endian); 0 marks an empty slot.
/// The check is a 16-bit sum of the contact bytes, so an entry torn by a
/// crash in the middle of a write is recognised and dropped at load.
public enum ContactRingLayout {
    @inline(__always)
    public static func entrySize(_ family: IPAddress.Family) -> Int { family == .v4 ? 32 : 48 }
    @inline(__always)
    public static func compactSize(_ family: IPAddress.Family) -> Int { family == .v4 ? 26 : 38 }

    static func check(_ entry: UnsafeRawPointer, family: IPAddress.Family) -> UInt16 {
        // FNV-1a over the contact bytes, folded to 16 bits.
        var hash: UInt32 = 0x811C_9DC5
        for index in 0..<compactSize(family) {
            hash = (hash ^ UInt32(entry.load(fromByteOffset: index, as: UInt8.self))) &* 0x0100_0193
        }
        return UInt16(truncatingIfNeeded: hash ^ hash >> 16) | 1
    }

    @inline(__always)
    static func lastSeen(_ entry: UnsafeRawPointer, family: IPAddress.Family) -> UInt32 {
        UInt32(littleEndian: entry.loadUnaligned(fromByteOffset: compactSize(family) + 2, as: UInt32.self))
    }

    static func write(_ entry: UnsafeMutableRawPointer, id: NodeID, address: NodeAddress, seen: UInt32) {
        let family = address.family
        // Clear "last seen" first: a crash in the middle leaves an empty or a checked entry.
        entry.storeBytes(of: UInt32(0), toByteOffset: compactSize(family) + 2, as: UInt32.self)
        var offset = 0
        func put(_ byte: UInt8) {
            entry.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
        for shift in stride(from: 56, through: 0, by: -8) { put(UInt8(truncatingIfNeeded: id.high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { put(UInt8(truncatingIfNeeded: id.middle >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { put(UInt8(truncatingIfNeeded: id.low >> UInt32(shift))) }
        switch address.ip {
        case .v4(let value):
            for shift in stride(from: 24, through: 0, by: -8) { put(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        case .v6(let high, let low):
            for shift in stride(from: 56, through: 0, by: -8) { put(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
            for shift in stride(from: 56, through: 0, by: -8) { put(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        }
        put(UInt8(address.port >> 8))
        put(UInt8(truncatingIfNeeded: address.port))
        entry.storeBytes(of: check(entry, family: family).littleEndian, toByteOffset: offset, as: UInt16.self)
        entry.storeBytes(of: seen.littleEndian, toByteOffset: offset + 2, as: UInt32.self)
    }

    static func clear(_ entry: UnsafeMutableRawPointer, family: IPAddress.Family) {
        entry.storeBytes(of: UInt32(0), toByteOffset: compactSize(family) + 2, as: UInt32.self)
    }

    /// Whether an entry holds a contact that was written completely.
    static func isIntact(_ entry: UnsafeRawPointer, family: IPAddress.Family) -> Bool {
        guard lastSeen(entry, family: family) != 0 else { return false }
        let stored = UInt16(littleEndian: entry.loadUnaligned(fromByteOffset: compactSize(family), as: UInt16.self))
        guard stored == check(entry, family: family) else { return false }
        let address = self.address(entry, family: family)
        return address.port != 0 && !address.ip.isUnroutable
    }

    static func address(_ entry: UnsafeRawPointer, family: IPAddress.Family) -> NodeAddress {
        NodeAddress(compact: UnsafeRawBufferPointer(start: entry + 20, count: compactSize(family) - 20), at: 0,
                    length: compactSize(family) - 20)!
    }

    static func contact(_ entry: UnsafeRawPointer, family: IPAddress.Family) -> NodeContact {
        NodeContact(id: NodeID(unsafeBytes: UnsafeRawBufferPointer(start: entry, count: 20), at: 0),
                    address: address(entry, family: family))
    }
}
