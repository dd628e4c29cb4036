import Foundation
import RemoteControl

/// Transmission RPC requests as a client (or a page the DNS-rebinding guard
/// let through) sends them: bytes → `TransmissionRequest` (the JSON envelope)
/// → `TransmissionCommand` (what the daemon does).
enum TransmissionTarget {
    @Sendable static func request(_ bytes: [UInt8]) {
        // The route refuses longer bodies before decoding (RemoteControlLimits).
        guard bytes.count <= RemoteControlLimits.maxRequestBodyBytes else { return }
        let request: TransmissionRequest
        do {
            request = try TransmissionRequest(body: bytes)
        } catch {
            // Typed throws: only the envelope's own errors come out here.
            switch error {
            case .invalidJSON, .missingMethod, .invalidArgument("arguments", _): return
            default: require(false, "envelope decoding threw \(error)")
            }
            return
        }
        require(!request.method.isEmpty, "a request without a method decoded")
        roundTrip(request)
        select(request, inputSize: bytes.count)
    }

    /// The request, encoded as JSON again, decodes to the same request (numbers compared by value:
    /// JSON does not tell 2 from 2.0).
    private static func roundTrip(_ request: TransmissionRequest) {
        var envelope: [String: JSONValue] = ["method": .string(request.method), "arguments": .object(request.arguments)]
        if let tag = request.tag { envelope["tag"] = tag }
        guard let encoded = try? JSONEncoder().encode(JSONValue.object(envelope)) else {
            require(false, "a decoded request does not encode: \(request)")
            return
        }
        guard let again = try? TransmissionRequest(body: Array(encoded)) else {
            require(false, "an encoded request does not decode: \(String(decoding: encoded, as: UTF8.self))")
            return
        }
        require(again.method == request.method && sameJSON(.object(again.arguments), .object(request.arguments))
                    && sameJSON(again.tag ?? .null, request.tag ?? .null) && (again.tag == nil) == (request.tag == nil),
                "request changed in a round trip: \(request) → \(again)")
    }

    /// Command selection: an unknown method is `unknownMethod` and only that; a known one
    /// either decodes or names the argument it did not like; nothing outgrows the input.
    private static func select(_ request: TransmissionRequest, inputSize: Int) {
        let known = TransmissionCommand.supportedMethods.contains(request.method)
        let command: TransmissionCommand
        do {
            command = try TransmissionCommand(request)
        } catch {
            switch error {
            case .unknownMethod(let method):
                require(!known && method == request.method, "unknownMethod(\(method)) for \(request.method)")
            case .missingArgument, .invalidArgument:
                require(known, "\(error) for the unknown method \(request.method)")
            case .invalidJSON, .missingMethod, .failed:
                require(false, "command selection threw \(error)")
            }
            return
        }
        require(known, "the unknown method \(request.method) selected \(command)")
        require(elements(of: command) <= inputSize, "\(elements(of: command)) elements from \(inputSize) bytes: \(command)")
        // Speed limits are multiplied by 1000 downstream: they must leave room for that.
        let speeds: [Int64?] = switch command {
        case .torrentSet(_, let set): [set.downloadLimit, set.uploadLimit]
        case .sessionSet(let set): [set.speedLimitDown, set.speedLimitUp, set.altSpeedDown, set.altSpeedUp]
        default: []
        }
        for case let speed? in speeds {
            require((0...TransmissionCommand.maxSpeedKilobytes).contains(speed), "speed limit \(speed) kB/s let through")
        }
        // A seed ratio is compared with every seed's ratio: never NaN, infinite or negative.
        let ratios: [Double?] = switch command {
        case .torrentSet(_, let set): [set.seedRatioLimit]
        case .sessionSet(let set): [set.seedRatioLimit]
        default: []
        }
        for case let ratio? in ratios {
            require(ratio.isFinite && ratio >= 0, "seed ratio \(ratio) let through")
        }
    }

    /// Every list a command holds, summed (each element took at least one byte of input).
    private static func elements(of command: TransmissionCommand) -> Int {
        func refs(_ selector: TransmissionSelector) -> Int {
            if case .some(let list) = selector { return list.count }
            return 0
        }
        switch command {
        case .torrentAdd(let add):
            let source: Int
            if case .metainfo(let bytes) = add.source { source = bytes.count } else { source = 0 }
            return source + add.filesUnwanted.count + add.priorityHigh.count + add.priorityLow.count
        case .torrentGet(let fields, let ids): return fields.count + refs(ids)
        case .torrentStart(let ids), .torrentStop(let ids), .torrentVerify(let ids), .torrentReannounce(let ids):
            return refs(ids)
        case .torrentRemove(let ids, _), .torrentSetLocation(let ids, _, _): return refs(ids)
        case .torrentSet(let ids, let set):
            return refs(ids) + set.filesWanted.count + set.filesUnwanted.count + set.priorityHigh.count
                + set.priorityNormal.count + set.priorityLow.count
        case .sessionGet(let fields): return fields?.count ?? 0
        case .sessionSet, .sessionStats, .freeSpace: return 0
        }
    }

    /// Equality of JSON values with numbers compared by value.
    static func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameJSON($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { sameJSON(value, $0) } ?? false }
        default: return a == b
        }
    }
}
