import Bencode

/// Everything that can be wrong with a torrent, a magnet link or content to publish.
/// Each case reads as a sentence a user can act on.
public enum MetainfoError: Error, Equatable, Sendable, CustomStringConvertible {
    case bencode(BencodeError)
    case missingField(String)
    case wrongType(field: String, expected: String)
    case invalidValue(field: String, reason: String)
    case unsafePath(String, reason: String)
    case duplicatePath(String)
    case badHostPort(String, String)
    case badMagnet(String)
    case emptyContent(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .bencode(let error): return "not a valid torrent: \(error)"
        case .missingField(let field): return "not a valid torrent: missing '\(field)'"
        case .wrongType(let field, let expected): return "not a valid torrent: '\(field)' should be \(expected)"
        case .invalidValue(let field, let reason): return "not a valid torrent: '\(field)' \(reason)"
        case .unsafePath(let path, let reason): return "unsafe file path '\(path)' in torrent: \(reason)"
        case .duplicatePath(let path): return "not a valid torrent: the path '\(path)' appears twice"
        case .badHostPort(let text, let reason): return "'\(text)' is not a valid HOST:PORT: \(reason)"
        case .badMagnet(let reason): return "not a valid magnet link: \(reason)"
        case .emptyContent(let path): return "nothing to publish in '\(path)': no non-empty files (ignored names and dot-files are skipped)"
        case .io(let path, let reason): return "\(path): \(reason)"
        }
    }
}
