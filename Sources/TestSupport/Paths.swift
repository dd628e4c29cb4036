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
    /// Its name carries the test process's PID, so that what a test process
    /// that died (`kill -9`, a crash) could not remove is swept by the next one.
    public static func makeTemporaryDirectory(_ prefix: String = "bf-test") throws -> URL {
        _ = sweptOnce
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-pid\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `sweepTemporaryDirectories` once per test process.
    private static let sweptOnce: Void = { _ = sweepTemporaryDirectories() }()

    /// Removes the temporary directories of test processes that no longer run
    /// (named `bf-…-pidN-XXXXXXXX` by `makeTemporaryDirectory`); returns their paths.
    /// A directory whose PID is alive, or not ours to remove, is left alone.
    @discardableResult
    public static func sweepTemporaryDirectories(in folder: URL = FileManager.default.temporaryDirectory) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix("bf-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 4, parts.last!.count == 8, parts.last!.allSatisfy(\.isHexDigit),
                  parts[parts.count - 2].hasPrefix("pid"), let pid = Int32(parts[parts.count - 2].dropFirst(3)), pid > 1, pid != getpid() else { continue }
            guard processIsGone(pid) else { continue }
            let path = folder.appendingPathComponent(name).path
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }
}

extension Paths {
    /// No process has this PID any more. A live process, or one that is not
    /// ours to signal (EPERM), counts as present: not ours to judge.
    public static func processIsGone(_ pid: Int32) -> Bool {
        pid > 1 && kill(pid, 0) == -1 && errno == ESRCH
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
