import Foundation

/// Every path a client names (save path, move target, publish source) must lie
/// inside one of the configured download roots. Checked on the real file
/// system: `..` components are refused outright, and the deepest existing
/// ancestor is resolved with realpath(3), so a symlink inside a root that
/// points outside it does not get a path out.
public struct PathConfinement: Sendable, Equatable {
    /// Canonical (symlink-free) roots; the first is where relative paths land.
    public let roots: [String]

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noRoots
        case parentComponent(String)
        case outsideRoots(String, [String])
        case unresolvable(String)

        public var description: String {
            switch self {
            case .noRoots: return "no download roots are configured"
            case .parentComponent(let path): return "'\(path)' contains '..'; name the directory directly"
            case .outsideRoots(let path, let roots):
                return "'\(path)' is outside the download roots (\(roots.joined(separator: ", ")))"
            case .unresolvable(let path): return "'\(path)' cannot be resolved"
            }
        }
    }

    /// `roots` are created if missing, then canonicalised.
    public init(roots: [String]) throws(Failure) {
        guard !roots.isEmpty else { throw .noRoots }
        var canonical: [String] = []
        for root in roots {
            try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            guard let resolved = PathConfinement.realPath(root) else { throw .unresolvable(root) }
            canonical.append(resolved)
        }
        self.roots = canonical
    }

    public var defaultRoot: String { roots[0] }

    /// The canonical form of `path` (relative paths are taken from the first
    /// root) when it is inside a root, else the reason it is not.
    public func confine(_ path: String) throws(Failure) -> String {
        let trimmed = path.trimmingCharacters(in: .whitespaces)
        let components = trimmed.split(separator: "/", omittingEmptySubsequences: true)
        if components.contains("..") { throw .parentComponent(path) }
        let absolute = trimmed.hasPrefix("/") ? trimmed : defaultRoot + "/" + trimmed
        guard let resolved = PathConfinement.resolveExistingPrefix(absolute) else { throw .unresolvable(path) }
        for root in roots where resolved == root || resolved.hasPrefix(root == "/" ? "/" : root + "/") {
            return resolved
        }
        throw .outsideRoots(path, roots)
    }

    /// realpath(3) of the deepest existing ancestor, with the rest appended:
    /// the target of a move may not exist yet.
    static func resolveExistingPrefix(_ path: String) -> String? {
        var existing = (path as NSString).standardizingPath
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing) {
            let parent = (existing as NSString).deletingLastPathComponent
            guard parent != existing, !parent.isEmpty else { return nil }
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = parent
        }
        guard let resolved = realPath(existing) else { return nil }
        return rest.reduce(resolved) { ($0 as NSString).appendingPathComponent($1) }
    }

    static func realPath(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
