/// Checks file paths that come from a torrent or from peers: they are untrusted,
/// and a path that escapes the download directory would let a peer write
/// anywhere the user can.
public enum SafePath {
    /// Validates the components of one path; returns them unchanged when safe.
    ///
    /// Rejected: no components, empty components, `.` and `..`, components holding
    /// `/` or NUL (a component must name one directory entry), and names longer than
    /// 255 bytes (the usual file-system limit, which would fail later and less clearly).
    public static func validate(_ components: [String]) throws(MetainfoError) -> [String] {
        let joined = components.joined(separator: "/")
        guard !components.isEmpty else { throw .unsafePath(joined, reason: "empty path") }
        for component in components {
            if component.isEmpty { throw .unsafePath(joined, reason: "empty path component") }
            if component == "." || component == ".." { throw .unsafePath(joined, reason: "'\(component)' component") }
            if component.utf8.contains(UInt8(ascii: "/")) { throw .unsafePath(joined, reason: "'/' inside a name (absolute path or hidden directory)") }
            if component.utf8.contains(0) { throw .unsafePath(joined, reason: "NUL byte in a name") }
            if component.utf8.count > 255 { throw .unsafePath(joined, reason: "name longer than 255 bytes") }
        }
        return components
    }
}
