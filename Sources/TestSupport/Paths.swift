import Foundation

/// Locations that tests need: the source tree (for scripts and fixtures) and
/// the freshly built `bitfountain` binary.
public enum Paths {
    /// The package root, found from this file's own path.
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `bitfountain` executable built alongside the tests (`swift test` builds it).
    public static var binary: String {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("bitfountain").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("bitfountain").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The interpreter that has Debian's python3-libtorrent.
    public static let systemPython = "/usr/bin/python3"

    /// A fresh temporary directory; the caller removes it (see `TemporaryDirectory`).
    public static func makeTemporaryDirectory(_ prefix: String = "bf-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A temporary directory removed when the value goes away.
public final class TemporaryDirectory: Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(_ prefix: String = "bf-test") throws {
        url = try Paths.makeTemporaryDirectory(prefix)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public func file(_ name: String) -> String { url.appendingPathComponent(name).path }
}
