import BitFountain
import Foundation

/// A `torrents/add` request, decoded: every source it names and the options they share.
public struct QBAddRequest: Sendable, Equatable {
    /// Magnet links and http(s) URLs of .torrent files (qBittorrent: one per line).
    public var urls: [String]
    public var torrentFiles: [[UInt8]]
    public var savePath: String?
    public var category: String?
    public var tags: [String]
    public var stopped: Bool

    public init(urls: [String] = [], torrentFiles: [[UInt8]] = [], savePath: String? = nil, category: String? = nil,
                tags: [String] = [], stopped: Bool = false) {
        self.urls = urls
        self.torrentFiles = torrentFiles
        self.savePath = savePath
        self.category = category
        self.tags = tags
        self.stopped = stopped
    }

    public init(_ parameters: QBParameters) throws(QBRequestError) {
        urls = (parameters["urls"] ?? "").split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        torrentFiles = parameters.files.map(\.bytes)
        guard !urls.isEmpty || !torrentFiles.isEmpty else { throw .missingParameter("urls or torrents") }
        savePath = parameters["savepath"].flatMap { $0.isEmpty ? nil : $0 }
        category = parameters["category"].flatMap { $0.isEmpty ? nil : $0 }
        tags = parameters.list("tags")
        // "paused" until WebAPI 2.11, "stopped" since; qbittorrent-api sends both.
        stopped = parameters.bool("stopped") ?? parameters.bool("paused") ?? false
    }
}

/// Which way a rate limit applies.
public enum QBRateDirection: Sendable {
    case upload, download
}

/// What the qBittorrent dialect needs from the node. The daemon implements it over `Session`;
/// `hashes == nil` means every torrent (qBittorrent's `hashes=all`). Unknown hashes in a list
/// are skipped, as qBittorrent does; a single unknown `hash` is `QBRequestError.notFound`.
public protocol QBBackend: Sendable {
    func mainData() async -> QBMainDataSnapshot
    func preferences() async -> QBPreferences
    func setPreferences(_ changes: QBPreferenceChanges) async throws(QBRequestError)
    /// Puts the alternative speed limits in force, or the normal ones.
    func setAltSpeedEnabled(_ enabled: Bool) async throws(QBRequestError)
    /// Adds every source; returns how many were accepted (0 is a failed add).
    func add(_ request: QBAddRequest) async -> Int
    func delete(_ hashes: Set<String>?, deleteFiles: Bool) async throws(QBRequestError)
    func setStopped(_ hashes: Set<String>?, _ stopped: Bool) async throws(QBRequestError)
    func recheck(_ hashes: Set<String>?) async throws(QBRequestError)
    /// Announces the running torrents and looks for their peers now (paused ones are left alone).
    func reannounce(_ hashes: Set<String>?) async
    /// The torrent as a .torrent file; `.conflict` before a magnet link's metadata has arrived.
    func torrentFile(of hash: String) async throws(QBRequestError) -> [UInt8]
    /// The torrent's connected peers (`sync/torrentPeers`).
    func peers(of hash: String) async throws(QBRequestError) -> [QBPeer]
    /// When the torrents stop seeding (`torrents/setShareLimits`).
    func setShareLimits(_ hashes: Set<String>?, ratio: SeedRatioLimit) async throws(QBRequestError)
    /// Where the node looks for the torrent's peers (`torrents/trackers`).
    func peerSources(of hash: String) async throws(QBRequestError) -> QBPeerSources
    /// Moves the data of the torrents to `location` (confined to the download roots).
    func setLocation(_ hashes: Set<String>?, _ location: String) async throws(QBRequestError)
    /// qBittorrent priorities: 0 skip, 1 normal, 6 and 7 high.
    func setFilePriority(_ hash: String, files: [Int], priority: Int) async throws(QBRequestError)
    /// Bytes per second, 0 for unlimited; nil leaves that direction alone.
    func setGlobalLimits(download: Int?, upload: Int?) async throws(QBRequestError)
    /// The torrents' own limit in one direction, bytes per second; nil for none. The other
    /// direction is left as it is. (Read back through `QBTorrent.upLimit`/`dlLimit`.)
    func setTorrentLimit(_ direction: QBRateDirection, _ hashes: Set<String>?, bytesPerSecond: Int?) async throws(QBRequestError)
    func files(of hash: String) async throws(QBRequestError) -> [QBFile]
    func pieceInfo(of hash: String) async throws(QBRequestError) -> QBPieceInfo
    /// qBittorrent's piece states: 0 missing, 1 downloading, 2 have.
    func pieceStates(of hash: String) async throws(QBRequestError) -> [Int]
    func createCategory(_ category: QBCategory) async throws(QBRequestError)
    func removeCategories(_ names: [String]) async
    func setCategory(_ category: String, for hashes: Set<String>?) async throws(QBRequestError)
    func createTags(_ tags: [String]) async
    func deleteTags(_ tags: [String]) async
    func addTags(_ tags: [String], to hashes: Set<String>?) async throws(QBRequestError)
    func removeTags(_ tags: [String], from hashes: Set<String>?) async throws(QBRequestError)
}
