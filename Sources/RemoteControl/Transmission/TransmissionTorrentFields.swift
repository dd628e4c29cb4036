import BitFountain
import Foundation
import PeerWire

/// Turns a session's view of a torrent into the `torrent-get` fields a
/// Transmission client asks for. Unknown field names are left out, as
/// Transmission does. Numbers the session does not track are reported as
/// Transmission reports "nothing yet" (0, or -1 for an unknown ETA/ratio);
/// `TransmissionTorrentFields.approximated` lists them.
public enum TransmissionTorrentFields {
    /// What one torrent's fields are computed from besides its snapshot (which is passed on
    /// its own, borrowed from the list rather than copied per torrent). `files`, `peers` and
    /// `pieces` are fetched only when a requested field needs them.
    public struct Input: Sendable {
        public var files: [FileSnapshot]?
        public var peers: [PeerSnapshot]?
        /// The verified pieces (nil before the metadata).
        public var pieces: Bitfield?
        public var limits: TransmissionTorrentLimits
        public var seedRatio: TransmissionSeedRatio
        public var peerLimit: Int

        public init(files: [FileSnapshot]? = nil, peers: [PeerSnapshot]? = nil, pieces: Bitfield? = nil,
                    limits: TransmissionTorrentLimits = .init(),
                    seedRatio: TransmissionSeedRatio = .init(.global, remembered: nil), peerLimit: Int) {
            self.files = files
            self.peers = peers
            self.pieces = pieces
            self.limits = limits
            self.seedRatio = seedRatio
            self.peerLimit = peerLimit
        }
    }

    public static let needFiles: Set<TransmissionTorrentField> = [.files, .fileStats, .priorities, .wanted]
    public static let needPeers: Set<TransmissionTorrentField> = [.peers, .peersFrom]

    /// Fields derived from counters the session keeps in another form (see `value(of:)`);
    /// every other field has an exact value.
    public static let approximated: Set<TransmissionTorrentField> = [
        .peersSendingToUs, .peersGettingFromUs, .peersFrom, .desiredAvailable, .secondsDownloading, .secondsSeeding,
    ]
    public static var exact: Set<TransmissionTorrentField> { Set(TransmissionTorrentField.allCases).subtracting(approximated) }

    /// Transmission's status numbers: 0 stopped, 2 checking, 4 downloading, 6 seeding.
    public static func status(_ state: TorrentState) -> Int64 {
        switch state {
        case .paused, .error: return 0
        case .checking: return 2
        case .downloadingMetadata, .downloading: return 4
        case .seeding: return 6
        }
    }

    /// The fields a request names, resolved once for all its torrents: in the
    /// order asked, each once, unknown names left out (as Transmission does),
    /// each with its key already encoded.
    public struct Plan: Sendable {
        public let fields: [TransmissionTorrentField]
        let keys: [[UInt8]]

        public init(_ names: [String]) {
            var seen = Set<TransmissionTorrentField>()
            fields = names.compactMap { TransmissionTorrentField(rawValue: $0) }.filter { seen.insert($0).inserted }
            keys = fields.map { JSONWriter.encodedKey($0.rawValue) }
        }

        public var needsFiles: Bool { fields.contains(where: needFiles.contains) }
        public var needsPeers: Bool { fields.contains(where: needPeers.contains) }
        public var needsPieces: Bool { fields.contains(.pieces) }
    }

    /// One torrent's fields as a JSON object, in the plan's order. The snapshot is `inout` only
    /// to be read where it lies: passed by value, each of ten thousand was copied first (a
    /// retain and release of every reference in it). It is not changed.
    public static func write(_ snapshot: inout TorrentSnapshot, _ input: Input, plan: Plan, into writer: inout JSONWriter) {
        writer.beginObject()
        for index in plan.fields.indices {
            writer.key(encoded: plan.keys[index])
            writer.write(value(of: plan.fields[index], &snapshot, input))
        }
        writer.endObject()
    }

    static func value(of field: TransmissionTorrentField, _ s: inout TorrentSnapshot, _ input: Input) -> JSONValue {
        switch field {
        case .id: return .int(Int64(s.id.rawValue))
        case .queuePosition: return .int(Int64(s.id.rawValue))
        case .hashString: return .string(s.infoHash.hex)
        case .name: return .string(s.name)
        case .status: return .int(status(s.state))
        case .error: return .int(s.error == nil ? 0 : 3)  // 3: TR_STAT_LOCAL_ERROR
        case .errorString: return .string(s.error ?? "")
        case .eta: return .int(s.eta.map { Int64($0.rounded()) } ?? -1)
        case .leftUntilDone, .desiredAvailable: return .int(max(0, s.bytesWanted - s.bytesWantedHave))
        case .sizeWhenDone: return .int(s.bytesWanted)
        case .totalSize: return .int(s.totalBytes)
        case .percentDone: return .double(s.progress)
        case .metadataPercentComplete: return .double(s.hasMetadata ? 1 : 0)
        case .recheckProgress: return .double(s.state == .checking ? s.progress : 0)
        case .haveValid: return .int(s.bytesHave)
        case .haveUnchecked: return .int(0)
        case .rateDownload: return .int(Int64(s.downloadRate))
        case .rateUpload: return .int(Int64(s.uploadRate))
        case .peersConnected: return .int(Int64(s.peersConnected))
        // The session counts peers that sent a block this run and connected seeds, not
        // who is transferring this second; these are the closest honest readings.
        case .peersSendingToUs: return .int(s.downloadRate > 0 ? Int64(s.peersContributed) : 0)
        case .peersGettingFromUs: return .int(s.uploadRate > 0 ? Int64(s.peersConnected - s.seedsConnected) : 0)
        case .peersFrom: return .object(["fromDht": .int(Int64(s.peersConnected)), "fromIncoming": 0, "fromLpd": 0,
                                         "fromPex": 0, "fromTracker": 0, "fromCache": 0, "fromLtep": 0])
        case .uploadRatio: return .double(s.downloadedEver == 0 && s.uploadedEver == 0 ? -1 : s.ratio)
        case .downloadDir: return .string(s.savePath)
        case .addedDate, .startDate: return .int(epoch(s.addedDate))
        case .doneDate: return .int(s.doneDate.map(epoch) ?? 0)
        case .activityDate: return .int(s.downloadRate > 0 || s.uploadRate > 0 ? epoch(Date()) : epoch(s.doneDate ?? s.addedDate))
        case .secondsDownloading, .secondsSeeding: return .int(0)
        case .downloadedEver: return .int(s.downloadedEver)
        case .uploadedEver: return .int(s.uploadedEver)
        case .corruptEver: return .int(Int64(s.hashFailures) * pieceSize(s))
        case .magnetLink: return .string(s.magnetLink)
        case .pieceCount: return .int(Int64(s.pieceCount))
        case .pieceSize: return .int(pieceSize(s))
        // Transmission's piece map: the bitfield as on the wire (piece 0 the high bit), base64.
        case .pieces: return .string(Data(input.pieces?.bytes ?? []).base64EncodedString())
        case .isFinished, .isStalled, .isPrivate: return .bool(false)
        case .labels: return .array((s.category.map { [$0] } ?? []).map(JSONValue.string) + s.tags.map(JSONValue.string))
        case .peerLimit: return .int(Int64(input.peerLimit))
        case .downloadLimit: return .int(input.limits.downloadKilobytes)
        case .downloadLimited: return .bool(input.limits.downloadLimited)
        case .uploadLimit: return .int(input.limits.uploadKilobytes)
        case .uploadLimited: return .bool(input.limits.uploadLimited)
        case .honorsSessionLimits: return .bool(true)
        case .bandwidthPriority, .seedIdleMode, .seedIdleLimit: return .int(0)
        case .seedRatioMode: return .int(input.seedRatio.mode)
        case .seedRatioLimit: return .double(input.seedRatio.ratio)
        case .comment, .creator, .torrentFile: return .string("")
        case .dateCreated: return .int(0)
        case .trackers, .trackerStats, .webseeds: return .array([])
        case .webseedsSendingToUs: return .int(0)
        case .files:
            return .array((input.files ?? []).map {
                .object(["name": .string(fileName($0, in: s)), "length": .int($0.length), "bytesCompleted": .int($0.bytesHave)])
            })
        case .fileStats:
            return .array((input.files ?? []).map {
                .object(["bytesCompleted": .int($0.bytesHave), "wanted": .bool($0.priority != .skip),
                         "priority": .int(priorityNumber($0.priority))])
            })
        case .priorities: return .array((input.files ?? []).map { .int(priorityNumber($0.priority)) })
        case .wanted: return .array((input.files ?? []).map { .int($0.priority == .skip ? 0 : 1) })
        case .peers: return .array((input.peers ?? []).map(peerObject))
        }
    }

    /// Transmission names files with the torrent's top directory in front.
    static func fileName(_ file: FileSnapshot, in snapshot: TorrentSnapshot) -> String {
        file.path.hasPrefix(snapshot.name + "/") || file.path == snapshot.name ? file.path : snapshot.name + "/" + file.path
    }

    static func priorityNumber(_ priority: FilePriority) -> Int64 { priority == .high ? 1 : 0 }

    /// The piece length: the power of two L with (n-1)·L < total ≤ n·L.
    static func pieceSize(_ s: TorrentSnapshot) -> Int64 {
        guard s.pieceCount > 0, s.totalBytes > 0 else { return 0 }
        let perPiece = (s.totalBytes + Int64(s.pieceCount) - 1) / Int64(s.pieceCount)
        var length: Int64 = 16 * 1024
        while length < perPiece { length <<= 1 }
        return length
    }

    static func peerObject(_ peer: PeerSnapshot) -> JSONValue {
        let (host, port) = splitAddress(peer.address)
        var flags = ""
        if peer.downloadRate > 0 { flags += "D" }
        if peer.uploadRate > 0 { flags += "U" }
        if peer.encrypted { flags += "E" }
        if peer.transport == .utp { flags += "T" }
        if peer.incoming { flags += "I" }
        return .object([
            "address": .string(host), "port": .int(port), "clientName": .string(peer.client),
            "rateToClient": .int(Int64(peer.downloadRate)), "rateToPeer": .int(Int64(peer.uploadRate)),
            "progress": .double(peer.progress), "isEncrypted": .bool(peer.encrypted), "isIncoming": .bool(peer.incoming),
            "isUTP": .bool(peer.transport == .utp), "flagStr": .string(flags),
            "clientIsChoked": .bool(peer.choked), "clientIsInterested": .bool(peer.interested),
            "peerIsChoked": .bool(false), "peerIsInterested": .bool(false),
            "isDownloadingFrom": .bool(peer.downloadRate > 0), "isUploadingTo": .bool(peer.uploadRate > 0),
        ])
    }

    /// "1.2.3.4:5" or "[::1]:5" into host and port.
    static func splitAddress(_ address: String) -> (String, Int64) {
        guard let colon = address.lastIndex(of: ":"), let port = Int64(address[address.index(after: colon)...]) else {
            return (address, 0)
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    static func epoch(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970) }
}

/// Per-torrent speed limits as Transmission clients set them: a value in kB/s
/// (1000 bytes) and whether it applies, kept apart so that turning a limit off
/// and on again keeps its value.
public struct TransmissionTorrentLimits: Sendable, Equatable {
    public var downloadKilobytes: Int64 = 100
    public var downloadLimited = false
    public var uploadKilobytes: Int64 = 100
    public var uploadLimited = false

    public init() {}

    /// Bytes per second for the session (nil: no limit).
    public var downloadBytesPerSecond: Int? { downloadLimited ? Int(downloadKilobytes * 1000) : nil }
    public var uploadBytesPerSecond: Int? { uploadLimited ? Int(uploadKilobytes * 1000) : nil }

    /// These remembered values brought in line with what the session enforces (bytes per
    /// second, nil: none), which another dialect or a restart may have changed: a limit in
    /// force shows as such, one that is off keeps its remembered kB/s.
    public func matching(upload: Int?, download: Int?) -> TransmissionTorrentLimits {
        var limits = self
        limits.uploadLimited = upload != nil
        if let upload { limits.uploadKilobytes = Int64(upload / 1000) }
        limits.downloadLimited = download != nil
        if let download { limits.downloadKilobytes = Int64(download / 1000) }
        return limits
    }
}
