import Identity

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-capacity ring of live contacts of one address family, after
/// bittorrent/bootstrap-dht's node buffer: new contacts fill it, and once it
/// is full each one replaces the oldest. One entry per IP (per /64 for IPv6),
/// enforced by an open-addressing index of 32-bit entry numbers; local
/// addresses (only served with `--allow-private`) are keyed by IP and port,
/// so several nodes on one test host each count.
///
/// Memory: the entry (32 bytes for IPv4, 48 for IPv6, see `ContactRingLayout`)
/// plus 4–8 bytes of index per contact. The entries live in caller-provided
/// memory (a mapped file in the router), the index is rebuilt at load.
public struct ContactRing: ~Copyable {
    public let family: IPAddress.Family
    public let capacity: Int
    public private(set) var count = 0
    /// Where the next contact goes once the ring is full (the oldest entry).
    private var cursor = 0
    private let memory: any ContactRingMemory
    private let base: UnsafeMutableRawPointer
    private let entrySize: Int
    private let index: UnsafeMutablePointer<UInt32>
    private let indexMask: Int
    private let hasher: SipHash
    /// Where the count is kept for the next start (a word in the file's header), if anywhere.
    private let savedCount: UnsafeMutablePointer<UInt64>?
    /// Entries below this are checked and indexed (see `continueIndexing`).
    private var indexed = 0
    private var oldestSeen = UInt32.max
    private var oldestPosition = 0

    public enum Admission: Sendable, Equatable {
        /// A new contact took a free slot.
        case added
        /// A new contact replaced the oldest one.
        case replaced
        /// The contact (or another port or ID at its IP) was there already and was updated in place.
        case refreshed
    }

    /// A ring over entries `start..<start+capacity` of `memory`. Whatever is
    /// already there (a mapped file from an earlier run) is checked, packed
    /// to the front and indexed; torn entries and duplicates are dropped.
    /// `savedCount` (a word the ring keeps up to date) bounds that scan, so a
    /// large, mostly empty file is not read page by page.
    ///
    /// With `deferIndexing` and a saved count, the entries are served at once
    /// and checked and indexed later, in slices (`continueIndexing`): a ring
    /// of 10 M contacts answers within milliseconds of a restart instead of
    /// after seconds of indexing. Until then it admits nothing.
    public init(memory: any ContactRingMemory, start: Int = 0, capacity: Int? = nil, hashKey: (UInt64, UInt64),
                savedCount: UnsafeMutablePointer<UInt64>? = nil, deferIndexing: Bool = false) {
        let capacity = max(0, min(capacity ?? memory.entryCount - start, memory.entryCount - start))
        family = memory.family
        self.capacity = capacity
        self.memory = memory
        entrySize = ContactRingLayout.entrySize(memory.family)
        base = memory.entries + start * entrySize
        // A load factor of at most 2/3 keeps linear probes short.
        var slots = 8
        while slots < capacity + capacity / 2 { slots <<= 1 }
        // calloc, like the heap ring memory: a page of slots costs memory only once
        // a contact hashes into it. A capacity of 10 M is 64 MB of index per family;
        // a ring holding a few thousand contacts (IPv6, often) never touches most of it.
        index = calloc(slots, MemoryLayout<UInt32>.stride)!.assumingMemoryBound(to: UInt32.self)
        indexMask = slots - 1
        hasher = SipHash(key0: hashKey.0, key1: hashKey.1)
        self.savedCount = savedCount
        if deferIndexing, let saved = savedCount?.pointee, saved <= UInt64(capacity) {
            count = Int(saved)
        } else {
            let limit = savedCount.map { Int(clamping: $0.pointee) } ?? capacity
            restore(scanning: min(capacity, limit))
        }
    }

    deinit {
        free(index)
    }

    /// Whether every entry is checked and indexed (admission works only then).
    public var isIndexed: Bool { indexed >= count }

    /// Checks and indexes up to `budget` more entries of a ring opened with
    /// `deferIndexing`. A torn or duplicate entry is replaced by the last one
    /// (so the served entries stay packed). Returns whether the ring is done.
    public mutating func continueIndexing(budget: Int) -> Bool {
        var remaining = budget
        while indexed < count, remaining > 0 {
            remaining -= 1
            let candidate = entry(indexed)
            if ContactRingLayout.isIntact(candidate, family: family), findSlot(key(ofEntry: indexed)) == nil {
                insertIntoIndex(key(ofEntry: indexed), position: indexed)
                let seen = ContactRingLayout.lastSeen(candidate, family: family)
                if seen < oldestSeen {
                    oldestSeen = seen
                    oldestPosition = indexed
                }
                indexed += 1
            } else {
                count -= 1
                if indexed != count { candidate.copyMemory(from: entry(count), byteCount: entrySize) }
                ContactRingLayout.clear(entry(count), family: family)
                savedCount?.pointee = UInt64(count)
            }
        }
        guard indexed >= count else { return false }
        cursor = count == capacity ? oldestPosition : 0
        return true
    }

    // MARK: Lookups

    /// When the contact at `address`'s IP (or /64) was last seen alive, in Unix seconds.
    public func lastSeen(_ address: NodeAddress) -> UInt32? {
        guard let slot = findSlot(key(address)) else { return nil }
        return ContactRingLayout.lastSeen(entry(Int(index[slot]) - 1), family: family)
    }

    /// The contact at position `position` (0..<count).
    public func contact(at position: Int) -> NodeContact {
        ContactRingLayout.contact(entry(position), family: family)
    }

    public func lastSeen(at position: Int) -> UInt32 {
        ContactRingLayout.lastSeen(entry(position), family: family)
    }

    /// Copies up to `wanted` consecutive contacts, starting at `start` modulo
    /// the count and wrapping around, as compact node infos into `out`.
    /// Returns how many it copied.
    @inline(__always)
    public func copyContacts(_ wanted: Int, start: UInt64, into out: UnsafeMutableRawPointer) -> Int {
        let taken = min(wanted, count)
        guard taken > 0 else { return 0 }
        let compact = ContactRingLayout.compactSize(family)
        var position = Int(truncatingIfNeeded: start % UInt64(count))
        for copied in 0..<taken {
            (out + copied * compact).copyMemory(from: base + position * entrySize, byteCount: compact)
            position += 1
            if position == count { position = 0 }
        }
        return taken
    }

    // MARK: Admission

    /// Admits a contact that has just proven itself (answered our ping).
    @discardableResult
    public mutating func admit(id: NodeID, address: NodeAddress, seen: UInt32) -> Admission? {
        guard capacity > 0, address.family == family, isIndexed else { return nil }
        let seen = max(1, seen)
        let key = key(address)
        if let slot = findSlot(key) {
            ContactRingLayout.write(entry(Int(index[slot]) - 1), id: id, address: address, seen: seen)
            return .refreshed
        }
        let position: Int
        let admission: Admission
        if count < capacity {
            position = count
            count += 1
            indexed = count
            savedCount?.pointee = UInt64(count)
            admission = .added
        } else {
            position = cursor
            cursor = cursor + 1 == capacity ? 0 : cursor + 1
            removeFromIndex(self.key(ofEntry: position))
            admission = .replaced
        }
        ContactRingLayout.write(entry(position), id: id, address: address, seen: seen)
        insertIntoIndex(key, position: position)
        return admission
    }

    // MARK: Entries and keys

    @inline(__always)
    private func entry(_ position: Int) -> UnsafeMutableRawPointer { base + position * entrySize }

    private struct Key: Equatable {
        var a: UInt64
        var b: UInt64
        var c: UInt64
    }

    private func key(_ address: NodeAddress) -> Key {
        let local = address.ip.isLocal
        switch address.ip {
        case .v4(let value):
            return Key(a: UInt64(value), b: local ? UInt64(address.port) | 1 << 16 : 0, c: 0)
        case .v6(let high, let low):
            return local ? Key(a: high, b: low, c: UInt64(address.port) | 1 << 16) : Key(a: high, b: 0, c: 0)
        }
    }

    private func key(ofEntry position: Int) -> Key {
        key(ContactRingLayout.address(entry(position), family: family))
    }

    @inline(__always)
    private func home(_ key: Key) -> Int {
        Int(truncatingIfNeeded: hasher.hash(key.a, key.b, key.c)) & indexMask
    }

    private func findSlot(_ key: Key) -> Int? {
        var slot = home(key)
        while index[slot] != 0 {
            if self.key(ofEntry: Int(index[slot]) - 1) == key { return slot }
            slot = (slot + 1) & indexMask
        }
        return nil
    }

    private func insertIntoIndex(_ key: Key, position: Int) {
        var slot = home(key)
        while index[slot] != 0 { slot = (slot + 1) & indexMask }
        index[slot] = UInt32(position + 1)
    }

    /// Linear-probing deletion without tombstones: later members of the probe
    /// run shift back into the hole when their home allows it.
    private func removeFromIndex(_ key: Key) {
        guard var hole = findSlot(key) else { return }
        index[hole] = 0
        var next = (hole + 1) & indexMask
        while index[next] != 0 {
            let wanted = home(self.key(ofEntry: Int(index[next]) - 1))
            // Move `next` into the hole unless its home lies cyclically in (hole, next].
            let distanceToNext = (next - wanted) & indexMask
            let distanceToHole = (hole - wanted) & indexMask
            if distanceToHole < distanceToNext {
                index[hole] = index[next]
                index[next] = 0
                hole = next
            }
            next = (next + 1) & indexMask
        }
    }

    // MARK: Loading

    /// Packs intact entries to the front, indexes them, and puts the cursor
    /// on the oldest one when the ring is full.
    private mutating func restore(scanning limit: Int) {
        var kept = 0
        var oldest = UInt32.max
        var oldestPosition = 0
        for position in 0..<limit {
            let source = entry(position)
            guard ContactRingLayout.lastSeen(source, family: family) != 0 else { continue }
            guard ContactRingLayout.isIntact(source, family: family) else {
                ContactRingLayout.clear(source, family: family)
                continue
            }
            let key = self.key(ofEntry: position)
            if findSlot(key) != nil {
                ContactRingLayout.clear(source, family: family)
                continue
            }
            if kept != position {
                entry(kept).copyMemory(from: source, byteCount: entrySize)
                ContactRingLayout.clear(source, family: family)
            }
            insertIntoIndex(key, position: kept)
            let seen = ContactRingLayout.lastSeen(entry(kept), family: family)
            if seen < oldest {
                oldest = seen
                oldestPosition = kept
            }
            kept += 1
        }
        count = kept
        indexed = kept
        savedCount?.pointee = UInt64(kept)
        cursor = kept == capacity ? oldestPosition : 0
    }
}
