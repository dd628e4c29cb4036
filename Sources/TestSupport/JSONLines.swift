import Foundation

/// Reads the JSON objects that `--json` commands print, one per line.
public enum JSONLines {
    /// Every line of `text` that parses as a JSON object.
    public static func objects(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    /// The last JSON object printed; throws when there is none.
    public static func last(_ text: String) throws -> [String: Any] {
        guard let object = objects(text).last else {
            throw ProcessFailure(description: "no JSON object in output: \(text.suffix(500))")
        }
        return object
    }

    /// The first object whose "event" field is `event`.
    public static func event(_ event: String, in text: String) -> [String: Any]? {
        objects(text).first { $0["event"] as? String == event }
    }
}
