/// Why a qBittorrent API request was refused. Each case maps to the status and plain-text body
/// qBittorrent itself sends, which is what qbittorrent-api turns into its exception classes.
public enum QBRequestError: Error, Sendable, Equatable {
    /// 400 with a message (qbittorrent-api: InvalidRequest400Error).
    case badParameter(String, String)
    /// 400 "Missing required parameters" (MissingRequiredParameters400Error).
    case missingParameter(String)
    /// 400: the body is not valid form data.
    case malformedBody(String)
    /// 403 "Forbidden": not logged in.
    case forbidden
    /// 404: unknown torrent hash.
    case notFound(String)
    /// 409: the request conflicts with the current state (e.g. an unknown category).
    case conflict(String)
    /// 415 "Torrent file is not valid" and similar add failures.
    case unsupported(String)

    public var status: Int {
        switch self {
        case .badParameter, .missingParameter, .malformedBody: 400
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .unsupported: 415
        }
    }

    public var message: String {
        switch self {
        case .badParameter(let name, let value): "Bad value for \(name): \(value)"
        case .missingParameter(let name): "Missing required parameters: \(name)"
        case .malformedBody(let why): "Malformed request body: \(why)"
        case .forbidden: "Forbidden"
        case .notFound(let what): what
        case .conflict(let why): why
        case .unsupported(let why): why
        }
    }
}
