/// Decides when a file in the watch folder is finished being written.
///
/// A client that saves a .torrent into the folder (a browser, `scp`, a script
/// writing in chunks) may be caught half-way by a scan: read then, a torrent
/// fails to parse and a magnet link may be cut short but still parse. So a file
/// is taken only once two scans in a row saw the same size and modification
/// time: it has not changed for at least one scan interval. Sans-I/O: the
/// caller lists the directory and passes what it saw.
public struct WatchFolderSettling: Sendable {
    /// What a scan saw of one file.
    public struct Sighting: Equatable, Sendable {
        public let size: Int
        public let modified: Double

        public init(size: Int, modified: Double) {
            self.size = size
            self.modified = modified
        }
    }

    private var previous: [String: Sighting] = [:]

    public init() {}

    /// The names that are ready to be added, from one scan's view of the
    /// candidates. A file that changed since the last scan (or is new) waits
    /// for the next one; a file that disappeared is forgotten.
    public mutating func settled(_ seen: [String: Sighting]) -> [String] {
        defer { previous = seen }
        return seen.filter { name, sighting in previous[name] == sighting }.keys.sorted()
    }

    /// Forgets a file once it was handled (renamed away), so a new file under the same name starts over.
    public mutating func forget(_ name: String) {
        previous.removeValue(forKey: name)
    }
}
