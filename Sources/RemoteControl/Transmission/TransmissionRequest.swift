import Foundation

/// The envelope of a Transmission RPC request: `{"method", "arguments", "tag"}`.
public struct TransmissionRequest: Sendable, Equatable {
    public let method: String
    public let arguments: [String: JSONValue]
    /// Echoed in the reply so a client can match replies to requests.
    public let tag: JSONValue?

    public init(method: String, arguments: [String: JSONValue] = [:], tag: JSONValue? = nil) {
        self.method = method
        self.arguments = arguments
        self.tag = tag
    }

    /// Decodes a request body; the body's size is bounded before this is called
    /// (`RemoteControlLimits.maxRequestBodyBytes`).
    public init(body: some Collection<UInt8>) throws(TransmissionRPCError) {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw .invalidJSON(TransmissionRequest.describe(error))
        }
        guard case .object(let object) = value else { throw .invalidJSON("the body is not a JSON object") }
        guard let method = object["method"]?.stringValue, !method.isEmpty else { throw .missingMethod }
        var arguments: [String: JSONValue] = [:]
        switch object["arguments"] {
        case nil, .null?: break
        case .object(let dictionary)?: arguments = dictionary
        case _?: throw .invalidArgument("arguments", "must be an object")
        }
        self.init(method: method, arguments: arguments, tag: object["tag"])
    }

    private static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription
            default: return "\(decoding)"
            }
        }
        return "\(error)"
    }
}
