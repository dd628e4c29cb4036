import Foundation

/// A Transmission RPC request decoded into what it asks for. Speeds are in
/// Transmission's units, kB/s of 1000 bytes (`speed-units` in session-get).
public enum TransmissionCommand: Sendable, Equatable {
    case torrentAdd(TorrentAdd)
    case torrentGet(fields: [String], ids: TransmissionSelector)
    case torrentStart(TransmissionSelector)
    case torrentStop(TransmissionSelector)
    case torrentVerify(TransmissionSelector)
    case torrentReannounce(TransmissionSelector)
    case torrentRemove(TransmissionSelector, deleteLocalData: Bool)
    case torrentSet(TransmissionSelector, TorrentSet)
    case torrentSetLocation(TransmissionSelector, location: String, move: Bool)
    case sessionGet(fields: [String]?)
    case sessionSet(SessionSet)
    case sessionStats
    case freeSpace(path: String)

    public struct TorrentAdd: Sendable, Equatable {
        public enum Source: Sendable, Equatable {
            /// A magnet link, an http(s) URL of a .torrent, or a local path.
            case filename(String)
            /// The .torrent file's bytes (sent base64-encoded).
            case metainfo([UInt8])
        }
        public var source: Source
        public var downloadDir: String?
        public var paused: Bool
        public var filesUnwanted: [Int] = []
        public var priorityHigh: [Int] = []
        public var priorityLow: [Int] = []
    }

    public struct TorrentSet: Sendable, Equatable {
        public var downloadLimit: Int64?
        public var downloadLimited: Bool?
        public var uploadLimit: Int64?
        public var uploadLimited: Bool?
        public var filesWanted: [Int] = []
        public var filesUnwanted: [Int] = []
        public var priorityHigh: [Int] = []
        public var priorityNormal: [Int] = []
        public var priorityLow: [Int] = []
        public var location: String?
        /// The torrent's own ratio limit, and which limit applies: 0 the session's, 1 its own, 2 none.
        public var seedRatioLimit: Double?
        public var seedRatioMode: Int64?
    }

    public struct SessionSet: Sendable, Equatable {
        public var speedLimitDown: Int64?
        public var speedLimitDownEnabled: Bool?
        public var speedLimitUp: Int64?
        public var speedLimitUpEnabled: Bool?
        public var downloadDir: String?
        public var seedRatioLimit: Double?
        public var seedRatioLimited: Bool?
        /// Turtle mode: the alternative limits (kB/s) and whether they are in force.
        public var altSpeedEnabled: Bool?
        public var altSpeedDown: Int64?
        public var altSpeedUp: Int64?
    }

    /// The largest speed limit a client may set, in kB/s (4 TB/s: no limit in practice).
    public static let maxSpeedKilobytes: Int64 = 1 << 32

    /// The methods this server answers; anything else is `unknownMethod`.
    public static let supportedMethods = [
        "torrent-add", "torrent-get", "torrent-start", "torrent-start-now", "torrent-stop", "torrent-verify",
        "torrent-reannounce", "torrent-remove", "torrent-set", "torrent-set-location",
        "session-get", "session-set", "session-stats", "free-space",
    ]

    public init(_ request: TransmissionRequest) throws(TransmissionRPCError) {
        var arguments = ArgumentReader(request.arguments)
        switch request.method {
        case "torrent-add":
            self = .torrentAdd(try TorrentAdd(&arguments))
        case "torrent-get":
            guard let fields = try arguments.strings("fields"), !fields.isEmpty else { throw .missingArgument("fields") }
            self = .torrentGet(fields: fields, ids: try arguments.selector())
        case "torrent-start", "torrent-start-now": self = .torrentStart(try arguments.selector())
        case "torrent-stop": self = .torrentStop(try arguments.selector())
        case "torrent-verify": self = .torrentVerify(try arguments.selector())
        case "torrent-reannounce": self = .torrentReannounce(try arguments.selector())
        case "torrent-remove":
            self = .torrentRemove(try arguments.selector(), deleteLocalData: try arguments.bool("delete-local-data") ?? false)
        case "torrent-set":
            self = .torrentSet(try arguments.selector(), try TorrentSet(&arguments))
        case "torrent-set-location":
            guard let location = try arguments.string("location") else { throw .missingArgument("location") }
            self = .torrentSetLocation(try arguments.selector(), location: location, move: try arguments.bool("move") ?? false)
        case "session-get": self = .sessionGet(fields: try arguments.strings("fields"))
        case "session-set": self = .sessionSet(try SessionSet(&arguments))
        case "session-stats": self = .sessionStats
        case "free-space":
            guard let path = try arguments.string("path") else { throw .missingArgument("path") }
            self = .freeSpace(path: path)
        default:
            throw .unknownMethod(request.method)
        }
    }
}

extension TransmissionCommand.TorrentAdd {
    init(_ arguments: inout ArgumentReader) throws(TransmissionRPCError) {
        if let metainfo = try arguments.string("metainfo") {
            guard let bytes = Base64.decode(metainfo), !bytes.isEmpty else {
                throw .invalidArgument("metainfo", "not base64")
            }
            source = .metainfo(bytes)
        } else if let filename = try arguments.string("filename"), !filename.isEmpty {
            source = .filename(filename)
        } else {
            throw .missingArgument("filename or metainfo")
        }
        downloadDir = try arguments.string("download-dir")
        paused = try arguments.bool("paused") ?? false
        filesUnwanted = try arguments.indices("files-unwanted")
        priorityHigh = try arguments.indices("priority-high")
        priorityLow = try arguments.indices("priority-low")
    }
}

extension TransmissionCommand.TorrentSet {
    init(_ arguments: inout ArgumentReader) throws(TransmissionRPCError) {
        downloadLimit = try arguments.speed("downloadLimit")
        downloadLimited = try arguments.bool("downloadLimited")
        uploadLimit = try arguments.speed("uploadLimit")
        uploadLimited = try arguments.bool("uploadLimited")
        filesWanted = try arguments.indices("files-wanted")
        filesUnwanted = try arguments.indices("files-unwanted")
        priorityHigh = try arguments.indices("priority-high")
        priorityNormal = try arguments.indices("priority-normal")
        priorityLow = try arguments.indices("priority-low")
        location = try arguments.string("location")
        seedRatioLimit = try arguments.ratio("seedRatioLimit")
        seedRatioMode = try arguments.int("seedRatioMode", in: 0...2)
    }
}

extension TransmissionCommand.SessionSet {
    init(_ arguments: inout ArgumentReader) throws(TransmissionRPCError) {
        speedLimitDown = try arguments.speed("speed-limit-down")
        speedLimitDownEnabled = try arguments.bool("speed-limit-down-enabled")
        speedLimitUp = try arguments.speed("speed-limit-up")
        speedLimitUpEnabled = try arguments.bool("speed-limit-up-enabled")
        downloadDir = try arguments.string("download-dir")
        seedRatioLimit = try arguments.ratio("seedRatioLimit")
        seedRatioLimited = try arguments.bool("seedRatioLimited")
        altSpeedEnabled = try arguments.bool("alt-speed-enabled")
        altSpeedDown = try arguments.speed("alt-speed-down")
        altSpeedUp = try arguments.speed("alt-speed-up")
    }
}

/// Typed access to the `arguments` object, with an error that names the argument.
struct ArgumentReader {
    let values: [String: JSONValue]
    init(_ values: [String: JSONValue]) { self.values = values }

    func selector() throws(TransmissionRPCError) -> TransmissionSelector { try TransmissionSelector.parse(values["ids"]) }

    func string(_ name: String) throws(TransmissionRPCError) -> String? {
        guard let value = values[name], value != .null else { return nil }
        guard let text = value.stringValue else { throw .invalidArgument(name, "must be a string") }
        return text
    }

    func bool(_ name: String) throws(TransmissionRPCError) -> Bool? {
        guard let value = values[name], value != .null else { return nil }
        guard let flag = value.boolValue else { throw .invalidArgument(name, "must be true or false") }
        return flag
    }

    /// A speed limit in kB/s, at most `maxSpeedKilobytes`: the daemon multiplies it by 1000, which
    /// for a client's number near Int64.max overflowed (a trap: one request stopped the daemon).
    func speed(_ name: String) throws(TransmissionRPCError) -> Int64? {
        guard let value = values[name], value != .null else { return nil }
        guard let number = value.intValue, (0...TransmissionCommand.maxSpeedKilobytes).contains(number) else {
            throw .invalidArgument(name, "must be a number of kB/s from 0 to \(TransmissionCommand.maxSpeedKilobytes)")
        }
        return number
    }

    /// A share ratio: a finite number from 0 up (an integer is fine: JSON has no other kind).
    func ratio(_ name: String) throws(TransmissionRPCError) -> Double? {
        guard let value = values[name], value != .null else { return nil }
        guard let number = value.doubleValue, number >= 0, number.isFinite, number <= 1e9 else {
            throw .invalidArgument(name, "must be a ratio from 0 up")
        }
        return number
    }

    func int(_ name: String, in range: ClosedRange<Int64>) throws(TransmissionRPCError) -> Int64? {
        guard let value = values[name], value != .null else { return nil }
        guard let number = value.intValue, range.contains(number) else {
            throw .invalidArgument(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func strings(_ name: String) throws(TransmissionRPCError) -> [String]? {
        guard let value = values[name], value != .null else { return nil }
        guard let items = value.arrayValue else { throw .invalidArgument(name, "must be a list of strings") }
        var out: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw .invalidArgument(name, "must be a list of strings") }
            out.append(text)
        }
        return out
    }

    /// File indices; an empty list means "all files" in Transmission, kept as [] here.
    func indices(_ name: String) throws(TransmissionRPCError) -> [Int] {
        guard let value = values[name], value != .null else { return [] }
        guard let items = value.arrayValue else { throw .invalidArgument(name, "must be a list of file indices") }
        var out: [Int] = []
        for item in items {
            guard let number = item.intValue, number >= 0, number < 1 << 20 else {
                throw .invalidArgument(name, "must be a list of file indices")
            }
            out.append(Int(number))
        }
        return out
    }
}

enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        let compact = text.filter { !$0.isWhitespace }
        return Foundation.Data(base64Encoded: compact).map { Array($0) }
    }
}
