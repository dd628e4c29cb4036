/// Why a Transmission RPC request was not carried out. The description is the
/// reply's `result` string, which clients show to the user as is.
public enum TransmissionRPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is not JSON, or not a JSON object (answered with HTTP 400).
    case invalidJSON(String)
    case missingMethod
    case unknownMethod(String)
    case missingArgument(String)
    case invalidArgument(String, String)
    /// The request was understood but could not be carried out (a bad path, a failed add).
    case failed(String)

    public var description: String {
        switch self {
        case .invalidJSON(let reason): return "invalid JSON request: \(reason)"
        case .missingMethod: return "the request has no \"method\""
        case .unknownMethod(let method): return "method name not recognized: \(method)"
        case .missingArgument(let name): return "missing argument \"\(name)\""
        case .invalidArgument(let name, let reason): return "invalid argument \"\(name)\": \(reason)"
        case .failed(let reason): return reason
        }
    }

    /// Parse errors get HTTP 400; everything else is a 200 with this `result`, as Transmission does.
    public var isMalformedRequest: Bool {
        if case .invalidJSON = self { return true }
        return false
    }
}
