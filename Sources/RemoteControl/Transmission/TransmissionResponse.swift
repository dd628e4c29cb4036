import Foundation

/// A Transmission RPC reply: `{"result": "success" | reason, "arguments": {…}, "tag": …}`.
public struct TransmissionResponse: Sendable, Equatable {
    /// The `arguments` object: values, or JSON already written (a `torrent-get`
    /// list is written torrent by torrent, without a tree of values in between).
    public enum Arguments: Sendable, Equatable {
        case values([String: JSONValue])
        case json([UInt8])
    }

    public var result: String
    public var arguments: Arguments
    public var tag: JSONValue?

    public static func success(_ arguments: [String: JSONValue], tag: JSONValue?) -> TransmissionResponse {
        TransmissionResponse(result: "success", arguments: .values(arguments), tag: tag)
    }

    public static func success(_ arguments: Arguments, tag: JSONValue?) -> TransmissionResponse {
        TransmissionResponse(result: "success", arguments: arguments, tag: tag)
    }

    public static func failure(_ error: TransmissionRPCError, tag: JSONValue?) -> TransmissionResponse {
        TransmissionResponse(result: error.description, arguments: .values([:]), tag: tag)
    }

    public func encoded() -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("arguments")
        switch arguments {
        case .values(let values): writer.write(.object(values))
        case .json(let bytes): writer.writeEncoded(bytes)
        }
        writer.key("result")
        writer.write(.string(result))
        if let tag {
            writer.key("tag")
            writer.write(tag)
        }
        writer.endObject()
        return writer.bytes
    }
}
