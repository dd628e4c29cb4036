import DHT
import Foundation
import Identity
import Metainfo

/// A router's contacts of one address family in a shared memory-mapped file
/// (`contacts-v4.ring`, `contacts-v6.ring` in the state directory). Workers
/// write admitted contacts straight into the mapping; the kernel owns the
/// dirty pages, so they reach the file even when the process is killed with
/// `kill -9`. `flush()` (periodically and at shutdown) only hurries them to
/// disk for the case of a power cut.
///
/// Layout: a 4,096-byte header, then `capacity` entries (`ContactRingLayout`).
///
///     [0,8) "BFRING01"  [8,12) family 4|6  [12,16) entry size  [16,24) capacity
///     [24,28) workers that last wrote it   [64,64+8·64) each worker's entry count
///
/// Its disk blocks are reserved when it is made (32 or 48 bytes per contact
/// of capacity, so a full disk is an error at start, never a SIGBUS later);
/// memory is taken only as contacts arrive. A file of another capacity is
/// migrated (its contacts copied into a new file), a damaged one set aside
/// as `*.damaged`.
public final class RouterRingFile: ContactRingMemory, @unchecked Sendable {
    public let family: IPAddress.Family
    public let entries: UnsafeMutableRawPointer
    public let entryCount: Int
    public let path: String
    private let mapping: UnsafeMutableRawPointer
    private let mappedLength: Int
    private let descriptor: Int32
    /// The file was made (or emptied) by this open.
    private let created: Bool

    static let headerSize = 4_096
    static let maxWorkers = 64
    private static let magic = Array("BFRING01".utf8)

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func fileName(_ family: IPAddress.Family) -> String { family == .v4 ? "contacts-v4.ring" : "contacts-v6.ring" }

    /// Opens (or creates) the ring file for `capacity` contacts shared by `workers` workers.
    public convenience init(directory: String, family: IPAddress.Family, capacity: Int, workers: Int,
                            warning: (String) -> Void = { _ in }) throws {
        precondition(workers >= 1 && workers <= Self.maxWorkers)
        let path = directory + "/" + Self.fileName(family)
        let entrySize = ContactRingLayout.entrySize(family)
        if let existing = try? Self.readHeader(path), existing.capacity != capacity || existing.family != family {
            if existing.family == family, existing.entrySize == entrySize {
                try Self.migrate(path, from: existing.capacity, to: capacity, family: family)
                warning("\(path): capacity changed from \(existing.capacity) to \(capacity); contacts copied over")
            } else {
                Self.setAside(path, warning: warning)
            }
        } else if FileManager.default.fileExists(atPath: path), (try? Self.readHeader(path)) == nil {
            Self.setAside(path, warning: warning)
        }
        try self.init(path: path, family: family, capacity: capacity, truncate: false)
        adopt(workers: workers, fresh: created)
    }

    /// Opens or creates the file at `path`, sized, its blocks reserved, mapped;
    /// a new (or truncated) file gets a header.
    private init(path: String, family: IPAddress.Family, capacity: Int, truncate: Bool) throws {
        let length = Self.headerSize + capacity * ContactRingLayout.entrySize(family)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o600)
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(path): \(systemErrorMessage())") }
        var status = stat()
        fstat(descriptor, &status)
        let created = status.st_size == 0
        if Int(status.st_size) != length, ftruncate(descriptor, off_t(length)) != 0 {
            let reason = systemErrorMessage()
            close(descriptor)
            throw Failure(description: "cannot size \(path) to \(length) bytes: \(reason)")
        }
        // Reserve the blocks now: a write into a hole of a mapped file on a full
        // disk is a SIGBUS, not an error the router could report.
        let reserved = posix_fallocate(descriptor, 0, off_t(length))
        guard reserved == 0 || reserved == EOPNOTSUPP || reserved == EINVAL else {
            close(descriptor)
            throw Failure(description: "cannot reserve \(length) bytes for \(path): \(String(cString: strerror(reserved)))")
        }
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else {
            let reason = systemErrorMessage()
            close(descriptor)
            throw Failure(description: "cannot map \(path): \(reason)")
        }
        self.family = family
        self.path = path
        self.descriptor = descriptor
        self.created = created
        mapping = mapped
        mappedLength = length
        entries = mapped + Self.headerSize
        entryCount = capacity
        if created { writeHeader(capacity: capacity, entrySize: ContactRingLayout.entrySize(family)) }
    }

    deinit {
        munmap(mapping, mappedLength)
        close(descriptor)
    }

    /// The word where worker `worker` keeps its count (see `ContactRing`).
    public func countSlot(worker: Int) -> UnsafeMutablePointer<UInt64> {
        (mapping + 64 + 8 * worker).assumingMemoryBound(to: UInt64.self)
    }

    /// The entries that belong to worker `worker` of `workers`.
    public static func shareRange(worker: Int, of workers: Int, entryCount: Int) -> Range<Int> {
        let share = (entryCount + workers - 1) / workers
        let start = min(entryCount, worker * share)
        return start..<min(entryCount, start + share)
    }

    /// Asks the kernel to write dirty pages now; `wait` blocks until they are on disk.
    public func flush(wait: Bool) {
        msync(mapping, mappedLength, wait ? MS_SYNC : MS_ASYNC)
    }

    // MARK: Header

    private func writeHeader(capacity: Int, entrySize: Int) {
        Self.magic.withUnsafeBytes { mapping.copyMemory(from: $0.baseAddress!, byteCount: 8) }
        mapping.storeBytes(of: UInt32(family == .v4 ? 4 : 6).littleEndian, toByteOffset: 8, as: UInt32.self)
        mapping.storeBytes(of: UInt32(entrySize).littleEndian, toByteOffset: 12, as: UInt32.self)
        mapping.storeBytes(of: UInt64(capacity).littleEndian, toByteOffset: 16, as: UInt64.self)
        mapping.storeBytes(of: UInt32(0), toByteOffset: 24, as: UInt32.self)
    }

    /// Saved counts are only meaningful for the same division into workers;
    /// otherwise every worker scans its whole range once.
    private func adopt(workers: Int, fresh: Bool) {
        let saved = Int(UInt32(littleEndian: mapping.load(fromByteOffset: 24, as: UInt32.self)))
        guard saved != workers else { return }
        for worker in 0..<Self.maxWorkers {
            let share = Self.shareRange(worker: worker, of: workers, entryCount: entryCount).count
            countSlot(worker: worker).pointee = worker < workers && !fresh ? UInt64(share) : 0
        }
        mapping.storeBytes(of: UInt32(workers).littleEndian, toByteOffset: 24, as: UInt32.self)
    }

    private struct Header {
        var family: IPAddress.Family
        var entrySize: Int
        var capacity: Int
    }

    private static func readHeader(_ path: String) throws -> Header {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure(description: "unreadable") }
        defer { try? handle.close() }
        let bytes = [UInt8]((try? handle.read(upToCount: 32)) ?? Data())
        guard bytes.count == 32, Array(bytes[0..<8]) == magic else { throw Failure(description: "not a ring file") }
        func word(_ offset: Int, _ size: Int) -> Int { (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) } }
        let familyCode = word(8, 4)
        guard familyCode == 4 || familyCode == 6 else { throw Failure(description: "bad family") }
        let header = Header(family: familyCode == 4 ? .v4 : .v6, entrySize: word(12, 4), capacity: word(16, 8))
        guard header.capacity >= 0, header.capacity <= RouterConfiguration.maxCapacity * 2 else { throw Failure(description: "bad capacity") }
        return header
    }

    private static func setAside(_ path: String, warning: (String) -> Void) {
        let aside = path + ".damaged"
        unlink(aside)
        rename(path, aside)
        warning("\(path) is not a router ring file; moved to \(aside), starting empty")
    }

    /// Copies the intact contacts of a file made for another capacity into a
    /// new file (as many as fit), then swaps it in.
    private static func migrate(_ path: String, from oldCapacity: Int, to capacity: Int, family: IPAddress.Family) throws {
        let temporary = path + ".migrating"
        unlink(temporary)
        let directory = (path as NSString).deletingLastPathComponent
        do {
            let old = try RouterRingFile(directory: directory, family: family, capacity: oldCapacity, workers: 1)
            let new = try RouterRingFile(path: temporary, family: family, capacity: capacity, truncate: true)
            new.mapping.storeBytes(of: UInt32(1).littleEndian, toByteOffset: 24, as: UInt32.self)
            var ring = ContactRing(memory: new, hashKey: (1, 2))
            let source = ContactRing(memory: old, hashKey: (3, 4))
            for position in 0..<source.count {
                ring.admit(id: source.contact(at: position).id, address: source.contact(at: position).address,
                           seen: source.lastSeen(at: position))
            }
            new.countSlot(worker: 0).pointee = UInt64(ring.count)
            new.flush(wait: true)
        }
        guard rename(temporary, path) == 0 else { throw Failure(description: "cannot replace \(path): \(systemErrorMessage())") }
    }
}
