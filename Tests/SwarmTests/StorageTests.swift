import Bencode
import Crypto
import Foundation
import Metainfo
import PeerWire
import TestSupport
import Testing
@testable import Swarm

@Suite struct StorageTests {
    /// A multi-file torrent with a BEP 47 pad file between its two files.
    static func paddedTorrent() -> (TorrentInfo, [UInt8]) {
        let first = (0..<20000).map { UInt8(truncatingIfNeeded: $0) }
        let pad = [UInt8](repeating: 0, count: 32768 - 20000)
        let second = (0..<10000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let flat = first + pad + second
        var hashes: [UInt8] = []
        for start in stride(from: 0, to: flat.count, by: 16384) {
            hashes += Insecure.SHA1.hash(data: flat[start..<min(flat.count, start + 16384)])
        }
        let raw = BValue.dict([
            "name": "album", "piece length": 16384, "pieces": .bytes(hashes),
            "files": .list([
                .dict(["length": .integer(Int64(first.count)), "path": .list(["disc", "a.bin"])]),
                .dict(["length": .integer(Int64(pad.count)), "path": .list([".pad", "12768"]), "attr": "p"]),
                .dict(["length": .integer(Int64(second.count)), "path": .list(["b.bin"])]),
            ]),
        ]).encoded
        return (try! TorrentInfo(rawBytes: raw), flat)
    }

    static func buffer(_ bytes: ArraySlice<UInt8>, piece: Int) -> PieceBuffer {
        let buffer = PieceBuffer(piece: piece, length: bytes.count)
        bytes.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
        return buffer
    }

    @Test func writesPiecesInPlaceSkipsPadFilesAndRechecks() throws {
        let directory = try TemporaryDirectory()
        let (info, flat) = Self.paddedTorrent()
        let storage = TorrentStorage(info: info, base: directory.path, writable: true)
        try storage.prepare()
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/album"), "files are created lazily")
        for piece in [2, 0, 1] {
            let start = piece * 16384
            #expect(storage.store(Self.buffer(flat[start..<min(flat.count, start + 16384)], piece: piece)) == .written)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/album/disc/a.bin")) == Data(flat[0..<20000]))
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/album/b.bin")) == Data(flat[32768...]))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/album/.pad"), "pad files are never written")
        #expect(PieceChecker.check(storage).isComplete)

        var readBack = [UInt8](repeating: 1, count: flat.count)
        try readBack.withUnsafeMutableBytes { try storage.read(into: $0, at: 0) }
        #expect(readBack == flat, "pad ranges read as zeros")
    }

    @Test func syncFlushesExactlyTheFilesWrittenSinceTheLastSync() throws {
        let directory = try TemporaryDirectory()
        let (info, flat) = Self.paddedTorrent()
        let storage = TorrentStorage(info: info, base: directory.path, writable: true)
        try storage.prepare()
        #expect(try storage.syncWrittenFiles() == [], "nothing written, nothing to flush")
        // Piece 1 lies in a.bin and the pad file; piece 2 in b.bin alone.
        #expect(storage.store(Self.buffer(flat[16384..<32768], piece: 1)) == .written)
        #expect(storage.store(Self.buffer(flat[32768...], piece: 2)) == .written)
        #expect(try storage.syncWrittenFiles() == [0, 2], "both real files, never the pad file")
        #expect(try storage.syncWrittenFiles() == [], "already on the disk")
        #expect(storage.store(Self.buffer(flat[0..<16384], piece: 0)) == .written)
        #expect(try storage.syncWrittenFiles() == [0])
    }

    @Test func wrongDataIsNeitherWrittenNorCounted() throws {
        let directory = try TemporaryDirectory()
        let (info, flat) = Self.paddedTorrent()
        let storage = TorrentStorage(info: info, base: directory.path, writable: true)
        var corrupt = Array(flat[0..<16384])
        corrupt[100] ^= 1
        #expect(storage.store(Self.buffer(corrupt[...], piece: 0)) == .hashMismatch)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/album"))
        #expect(PieceChecker.check(storage).isEmpty)
    }

    @Test func refusesSymbolicLinksPlantedInTheOutputDirectory() throws {
        let directory = try TemporaryDirectory()
        let outside = try TemporaryDirectory()
        let (info, flat) = Self.paddedTorrent()
        // A link where the torrent's top directory would go, pointing elsewhere.
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/album", withDestinationPath: outside.path)
        let storage = TorrentStorage(info: info, base: directory.path, writable: true)
        let result = storage.store(Self.buffer(flat[0..<16384], piece: 0))
        guard case .writeFailed(let reason) = result else { Issue.record("expected a refusal, got \(result)"); return }
        #expect(reason.contains("symbolic link"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty, "nothing written through the link")

        // A link in place of the file itself.
        try FileManager.default.removeItem(atPath: directory.path + "/album")
        try FileManager.default.createDirectory(atPath: directory.path + "/album", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/album/b.bin", withDestinationPath: outside.file("victim"))
        #expect(storage.store(Self.buffer(flat[32768...], piece: 2)) != .written)
        #expect(!FileManager.default.fileExists(atPath: outside.file("victim")))
    }

    @Test func unwritableDirectoryIsAClearError() throws {
        guard getuid() != 0 else { return }  // root writes anywhere; the check below needs a normal user
        let directory = try TemporaryDirectory()
        chmod(directory.path, 0o500)
        defer { chmod(directory.path, 0o700) }
        let storage = TorrentStorage(info: Self.paddedTorrent().0, base: directory.path, writable: true)
        #expect(throws: StorageError.self) { try storage.prepare() }
    }

    @Test func diskFullErrorsSayHowToResume() {
        let error = StorageError(path: "/data/x", code: ENOSPC)
        #expect(error.isDiskFull)
        #expect(error.description.contains("run the same command again to resume"))
    }

    @Test func resumeDataIsTrustedOnlyWhileFilesAreUnchanged() throws {
        let directory = try TemporaryDirectory()
        // Held for the whole test: dropped at once, it was removed before the state was written,
        // which then made it again and left it behind in /tmp.
        let stateRoot = try TemporaryDirectory()
        let state = StateDirectory(path: stateRoot.path + "/state")
        let (info, flat) = Self.paddedTorrent()
        let storage = TorrentStorage(info: info, base: directory.path, writable: true)
        #expect(storage.store(Self.buffer(flat[0..<16384], piece: 0)) == .written)
        var have = Bitfield(count: info.pieceCount)
        have[0] = true
        try state.save(ResumeData(infoHash: info.infoHash, have: have, files: storage.fileStatuses(), base: directory.path))

        let loaded = try #require(state.loadResume(info.infoHash))
        #expect(loaded.have == have)
        #expect(loaded.trustedPieces(for: storage, infoHash: info.infoHash) == have)

        // Another write changes an mtime: the record no longer describes the files.
        usleep(20_000)
        #expect(storage.store(Self.buffer(flat[16384..<32768], piece: 1)) == .written)
        #expect(loaded.trustedPieces(for: storage, infoHash: info.infoHash) == nil)
        #expect(PieceChecker.check(storage).setIndices == [0, 1])
    }

    @Test func recheckOfManyPiecesFailsOnlyThoseOfAMissingOrDamagedFile() throws {
        // 40 pieces over three files: enough for the sixteen-at-once hashing path.
        let sizes = [200_000, 300_000, 155_361]
        var random = SplitMix64(seed: 40)
        let contents = sizes.map { random.bytes($0) }
        let flat = contents.flatMap { $0 }
        var hashes: [UInt8] = []
        for start in stride(from: 0, to: flat.count, by: 16384) {
            hashes += Insecure.SHA1.hash(data: flat[start..<min(flat.count, start + 16384)])
        }
        let raw = BValue.dict([
            "name": "set", "piece length": 16384, "pieces": .bytes(hashes),
            "files": .list(sizes.indices.map { .dict(["length": .integer(Int64(sizes[$0])), "path": .list([.string("f\($0)")])]) }),
        ]).encoded
        let info = try TorrentInfo(rawBytes: raw)
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/set", withIntermediateDirectories: true)
        for (index, bytes) in contents.enumerated() where index != 1 {
            try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/set/f\(index)"))
        }
        let storage = TorrentStorage(info: info, base: directory.path, writable: false)
        let missing = Set(info.layout.pieces(ofFile: 1))
        #expect(PieceChecker.check(storage).setIndices == Array(Set(0..<info.pieceCount).subtracting(missing)).sorted())
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/set/f1"), "a recheck creates nothing")

        // The file comes back with one byte changed: only that byte's piece fails.
        var damaged = contents[1]
        damaged[123_456] ^= 0xFF
        try Data(damaged).write(to: URL(fileURLWithPath: directory.path + "/set/f1"))
        let bad = (200_000 + 123_456) / 16384
        #expect(PieceChecker.check(storage).setIndices == (0..<info.pieceCount).filter { $0 != bad })
    }

    @Test func metadataIsKeptForRestartedMagnetDownloads() throws {
        let stateRoot = try TemporaryDirectory()
        let state = StateDirectory(path: stateRoot.path)
        let (info, _) = Self.paddedTorrent()
        #expect(state.loadMetadata(info.infoHash) == nil)
        try state.saveMetadata(info)
        #expect(state.loadMetadata(info.infoHash)?.rawBytes == info.rawBytes)
    }

    @Test func stateDirectoryFollowsXDG() {
        #expect(StateDirectory.defaultPath(environment: ["XDG_STATE_HOME": "/x", "HOME": "/h"]) == "/x/bitfountain")
        #expect(StateDirectory.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/state/bitfountain")
    }
}
