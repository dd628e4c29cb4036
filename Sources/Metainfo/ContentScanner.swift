import Foundation

/// The files to publish, found by walking a path the way the original
/// BitTorrent did: version-control and OS clutter (`CVS`, `core`, `Thumbs.db`,
/// `desktop.ini`) and names beginning with a dot are skipped.
public struct ContentPlan: Sendable {
    /// Name of the torrent: the file or directory's own name.
    public let name: String
    public let isMultiFile: Bool
    /// Paths relative to the root, in torrent order (bytewise by components).
    public let relativePaths: [[String]]
    /// Absolute paths on disk, index for index with `relativePaths`.
    public let diskPaths: [String]
    public let lengths: [Int64]

    public var totalLength: Int64 { lengths.reduce(0, +) }
}

public enum ContentScanner {
    public static let ignoredNames: Set<String> = ["CVS", "core", "Thumbs.db", "desktop.ini"]

    public static func isIgnored(_ name: String) -> Bool {
        name.hasPrefix(".") || ignoredNames.contains(name)
    }

    /// Scans `path`; throws `emptyContent` when nothing with bytes is left to publish.
    public static func scan(_ path: String) throws(MetainfoError) -> ContentPlan {
        let rootURL = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        let rootPath = rootURL.path
        var info = stat()
        guard stat(rootPath, &info) == 0 else { throw .io(path: path, reason: systemErrorMessage()) }
        let name = rootURL.lastPathComponent
        guard !name.isEmpty, name != "/" else { throw .io(path: path, reason: "cannot publish the file-system root") }

        if info.st_mode & S_IFMT == S_IFREG {
            guard info.st_size > 0 else { throw .emptyContent(path) }
            return ContentPlan(name: name, isMultiFile: false, relativePaths: [[name]], diskPaths: [rootPath], lengths: [Int64(info.st_size)])
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .io(path: path, reason: "not a regular file or directory") }

        var found: [(relative: [String], disk: String, length: Int64)] = []
        try walk(directory: rootPath, relative: [], into: &found)
        // Bytewise by component, the order BEP 3 tools agree on (not locale collation).
        found.sort { $0.relative.lexicographicallyPrecedes($1.relative) { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        guard found.contains(where: { $0.length > 0 }) else { throw .emptyContent(path) }
        return ContentPlan(name: name, isMultiFile: true,
                           relativePaths: found.map(\.relative), diskPaths: found.map(\.disk), lengths: found.map(\.length))
    }

    /// Collects regular files below `directory`. Symbolic links to files are
    /// followed; links to directories are not, so a link loop cannot trap the walk.
    private static func walk(directory: String, relative: [String],
                             into found: inout [(relative: [String], disk: String, length: Int64)]) throws(MetainfoError) {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .io(path: directory, reason: "cannot list directory")
        }
        for name in names where !isIgnored(name) {
            let disk = directory + "/" + name
            var linkInfo = stat()
            guard lstat(disk, &linkInfo) == 0 else { continue }
            let isLink = linkInfo.st_mode & S_IFMT == S_IFLNK
            var info = stat()
            guard stat(disk, &info) == 0 else { continue }  // dangling link
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                found.append((relative + [name], disk, Int64(info.st_size)))
            case S_IFDIR where !isLink:
                try walk(directory: disk, relative: relative + [name], into: &found)
            default:
                continue  // sockets, devices, FIFOs and links to directories
            }
        }
    }
}

/// The piece size rule: the smallest power of two from 16 KiB to 16 MiB that
/// keeps the torrent at or below 2,000 pieces (so normally 1,000–2,000).
public enum PieceSize {
    public static let minimum = 16 << 10
    public static let maximum = 16 << 20
    public static let targetMaxPieces: Int64 = 2000

    public static func choose(forTotalLength total: Int64) -> Int {
        var size = minimum
        while size < maximum, (total + Int64(size) - 1) / Int64(size) > targetMaxPieces { size <<= 1 }
        return size
    }
}
