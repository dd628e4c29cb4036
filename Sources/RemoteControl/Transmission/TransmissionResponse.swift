import Foundation

/// A Transmission RPC reply: `{"result": "success" | reason, "arguments": {…}, "tag": …}`.
public struct TransmissionResponse: Sendable, Equatable {
    public var result: String
    public var arguments: [String: JSONValue]
    public var tag: JSONValue?

    public static func success(_ arguments: [String: JSONValue], tag: JSONValue?) -> TransmissionResponse {
        TransmissionResponse(result: "success", arguments: arguments, tag: tag)
    }

    public static func failure(_ error: TransmissionRPCError, tag: JSONValue?) -> TransmissionResponse {
        TransmissionResponse(result: error.description, arguments: [:], tag: tag)
    }

    public func encoded() -> [UInt8] {
        var object: [String: JSONValue] = ["result": .string(result), "arguments": .object(arguments)]
        if let tag { object["tag"] = tag }
        // Encoding a JSONValue tree cannot fail: every case maps to a JSON value.
        return Array((try? JSONEncoder().encode(JSONValue.object(object))) ?? Data("{\"result\":\"internal error\"}".utf8))
    }
}
