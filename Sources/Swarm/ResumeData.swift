import Bencode
import Foundation
import Metainfo
import PeerWire

/// What a download remembers between runs: which pieces are verified on disk,
/// and the size and mtime of every file when that was written down. If the
/// files still look the same at the next start the bitfield is trusted (fast
/// resume); otherwise every piece is rechecked.
///
/// Saved atomically (write, fsync, rename) so a crash leaves the old or the
/// new state, never a torn one. A piece that was being written when the
/// process died changed its file's mtime, which forces a recheck: at most the
/// pieces in flight are lost.
public struct ResumeData: Equatable, Sendable {
    public var infoHash: InfoHash
    public var have: Bitfield
    public var files: [FileStatus?]
    /// Where the content lives, so a resume into another directory starts over.
    public var base: String

    public init(infoHash: InfoHash, have: Bitfield, files: [FileStatus?], base: String) {
        self.infoHash = infoHash
        self.have = have
        self.files = files
        self.base = base
    }

    public var encoded: [UInt8] {
        BValue.dict([
            "format": "bitfountain-resume-1",
            "info-hash": .bytes(infoHash.bytes),
            "pieces": .integer(Int64(have.count)),
            "have": .bytes(have.bytes),
            "base": .string(base),
            "files": .list(files.map { status in
                guard let status else { return .list([]) }
                return .list([.integer(status.size), .integer(status.mtime)])
            }),
        ]).encoded
    }

    public init(decoding bytes: [UInt8]) throws {
        let root = try BencodeDecoder(limits: BencodeLimits(maxDepth: 4, maxStringLength: 16 << 20)).decode(bytes)
        guard root["format"]?.string == "bitfountain-resume-1",
              let hashBytes = root["info-hash"]?.bytes, let infoHash = InfoHash(bytes: hashBytes),
              let count = root["pieces"]?.integer, count >= 0, count < 1 << 26,
              let haveBytes = root["have"]?.bytes, let have = Bitfield(count: Int(count), bytes: haveBytes),
              let base = root["base"]?.string, let fileList = root["files"]?.list else {
            throw StorageError(path: "resume data", reason: "unreadable")
        }
        self.infoHash = infoHash
        self.have = have
        self.base = base
        files = fileList.map { item in
            guard let pair = item.list, pair.count == 2, let size = pair[0].integer, let mtime = pair[1].integer else { return nil }
            return FileStatus(size: size, mtime: mtime)
        }
    }

    /// The verified pieces if this record still describes `storage`, else nil (recheck needed).
    public func trustedPieces(for storage: TorrentStorage, infoHash expected: InfoHash) -> Bitfield? {
        guard infoHash == expected, base == storage.tree.base, have.count == storage.layout.pieceCount else { return nil }
        return storage.fileStatuses() == files ? have : nil
    }
}

/// Where a node keeps resume data and fetched metadata:
/// `${XDG_STATE_HOME:-$HOME/.local/state}/bitfountain` unless `--state-dir` says otherwise.
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/bitfountain" }
        return (environment["HOME"] ?? NSTemporaryDirectory()) + "/.local/state/bitfountain"
    }

    public func resumePath(_ infoHash: InfoHash) -> String { path + "/resume/\(infoHash.hex).resume" }
    public func metadataPath(_ infoHash: InfoHash) -> String { path + "/metadata/\(infoHash.hex).info" }

    public func save(_ resume: ResumeData) throws {
        try ensure(path + "/resume")
        try AtomicFile.write(resume.encoded, to: resumePath(resume.infoHash), overwrite: true, mode: 0o600)
    }

    public func loadResume(_ infoHash: InfoHash) -> ResumeData? {
        guard let data = FileManager.default.contents(atPath: resumePath(infoHash)), data.count < 32 << 20 else { return nil }
        return try? ResumeData(decoding: [UInt8](data))
    }

    /// Keeps a magnet download's info dictionary so a restart needs no peer for it.
    public func saveMetadata(_ info: TorrentInfo) throws {
        try ensure(path + "/metadata")
        try AtomicFile.write(info.rawBytes, to: metadataPath(info.infoHash), overwrite: true, mode: 0o600)
    }

    public func loadMetadata(_ infoHash: InfoHash) -> TorrentInfo? {
        guard let data = FileManager.default.contents(atPath: metadataPath(infoHash)), data.count <= TorrentInfo.maxInfoSize,
              let info = try? TorrentInfo(rawBytes: [UInt8](data)), info.infoHash == infoHash else { return nil }
        return info
    }

    private func ensure(_ directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
