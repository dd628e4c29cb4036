import NIOCore
import RemoteControl

/// qBittorrent WebAPI parameters as *arr applications and browsers send
/// them: a query string and a body that is form-urlencoded, multipart
/// (torrents/add) or untyped, decoded once by `QBParameters`; then the
/// `torrents/info` query built from them and applied to a torrent list.
enum QBittorrentTarget {
    /// The input is `CONTENT-TYPE \0 QUERY \0 BODY`; a missing part is absent (the
    /// content type) or empty. A first byte of 0x01 stands for the multipart type
    /// with the boundary the seeds use, so mutations reach the parts quickly.
    @Sendable static func parameters(_ bytes: [UInt8]) {
        let fields = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        let typeBytes = fields.first ?? []
        let contentType: String? = switch typeBytes.first {
        case nil: nil
        case 0x01?: "multipart/form-data; boundary=bfboundary"
        default: String(decoding: typeBytes, as: UTF8.self)
        }
        let query = fields.count > 1 ? String(decoding: fields[1], as: UTF8.self) : nil
        let body = fields.count > 2 ? Array(fields[2]) : []
        let parameters: QBParameters
        do {
            parameters = try QBParameters(query: query, contentType: contentType, body: ByteBuffer(bytes: body))
        } catch {
            switch error {
            case .malformedBody: return
            default: require(false, "parameter decoding threw \(error)")
            }
            return
        }
        require(parameters.files.count <= QBParameters.maxParts, "\(parameters.files.count) files kept")
        let fileBytes = parameters.files.reduce(0) { $0 + $1.bytes.count }
        require(fileBytes <= body.count, "\(fileBytes) bytes of files from a body of \(body.count)")
        // Invalid UTF-8 becomes U+FFFD (3 bytes for 1): nothing grows beyond that.
        let textBytes = parameters.values.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        require(textBytes <= 3 * bytes.count, "\(textBytes) bytes of values from \(bytes.count) bytes")
        listQuery(parameters)
    }

    private static let torrents: [QBTorrent] = {
        var list = [QBTorrent(hash: "aa", name: "one", state: .downloading), QBTorrent(hash: "bb", name: "two", state: .stalledUP),
                    QBTorrent(hash: "cc", name: "three", state: .stoppedDL)]
        list[0].category = "tv"
        list[1].tags = ["x", "y"]
        return list
    }()

    /// `torrents/info`: a bad filter or number is `badParameter`; a good query selects a sub-list
    /// of the torrents, in some order, each at most once, never more than `limit`.
    private static func listQuery(_ parameters: QBParameters) {
        let query: QBTorrentListQuery
        do {
            query = try QBTorrentListQuery(parameters)
        } catch {
            switch error {
            case .badParameter: return
            default: require(false, "list query threw \(error)")
            }
            return
        }
        let selected = query.apply(to: torrents)
        require(Set(selected.map(\.hash)).count == selected.count, "a torrent listed twice: \(selected.map(\.hash))")
        require(selected.allSatisfy { torrent in torrents.contains(torrent) }, "a torrent that is not in the list")
        if let limit = query.limit { require(selected.count <= limit, "\(selected.count) torrents over a limit of \(limit)") }
    }
}
