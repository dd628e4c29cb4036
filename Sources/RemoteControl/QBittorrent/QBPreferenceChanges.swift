import Foundation

/// `app/setPreferences`: the preferences in its `json` parameter that this node applies. Keys it
/// does not know are skipped, as qBittorrent skips them; a known key with a value of the wrong
/// kind is refused (400) and nothing changes.
public struct QBPreferenceChanges: Sendable, Equatable {
    /// Bytes per second; 0 (or less) takes the limit off.
    public var downloadLimit: Int?
    public var uploadLimit: Int?
    public var maxConnections: Int?
    public var maxConnectionsPerTorrent: Int?
    public var savePath: String?
    /// `max_ratio_enabled` and `max_ratio`: the global share-ratio limit.
    public var maxRatioEnabled: Bool?
    public var maxRatio: Double?
    /// The alternative limits, bytes per second; 0 (or less) for none.
    public var altDownloadLimit: Int?
    public var altUploadLimit: Int?

    public init() {}

    /// The keys applied here, for the note in the README and for tests.
    public static let appliedKeys = ["dl_limit", "up_limit", "max_connec", "max_connec_per_torrent", "save_path",
                                     "max_ratio_enabled", "max_ratio", "alt_dl_limit", "alt_up_limit"]

    public init(_ parameters: QBParameters) throws(QBRequestError) {
        let text = try parameters.required("json")
        let object: [String: JSONValue]
        do {
            guard let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)).objectValue else {
                throw QBRequestError.badParameter("json", "not a JSON object")
            }
            object = decoded
        } catch {
            throw .badParameter("json", "not a JSON object")
        }
        func int(_ key: String) throws(QBRequestError) -> Int? {
            guard let value = object[key] else { return nil }
            guard let number = value.intValue, abs(number) < 1 << 48 else { throw .badParameter(key, "\(value)") }
            return Int(number)
        }
        func positive(_ key: String) throws(QBRequestError) -> Int? {
            guard let number = try int(key) else { return nil }
            guard number > 0 else { throw .badParameter(key, "\(number) (a positive number of connections)") }
            return number
        }
        downloadLimit = try int("dl_limit").map { max(0, $0) }
        uploadLimit = try int("up_limit").map { max(0, $0) }
        altDownloadLimit = try int("alt_dl_limit").map { max(0, $0) }
        altUploadLimit = try int("alt_up_limit").map { max(0, $0) }
        maxConnections = try positive("max_connec")
        maxConnectionsPerTorrent = try positive("max_connec_per_torrent")
        if let value = object["save_path"] {
            guard let path = value.stringValue, !path.isEmpty else { throw .badParameter("save_path", "\(value)") }
            savePath = path
        }
        if let value = object["max_ratio_enabled"] {
            guard let flag = value.boolValue else { throw .badParameter("max_ratio_enabled", "\(value)") }
            maxRatioEnabled = flag
        }
        if let value = object["max_ratio"] {
            guard let ratio = value.doubleValue, ratio.isFinite, ratio >= -1 else { throw .badParameter("max_ratio", "\(value)") }
            maxRatio = ratio
        }
    }
}
