/// Compact JSON straight into a byte buffer. Replies are written with it
/// instead of `JSONEncoder`: a `torrent-get` of 10,000 torrents is 60,000
/// values, and going through `Codable` (a container per value, a dictionary
/// per torrent) made that answer cost ~7× what Transmission's does.
/// Non-finite doubles are written as 0 (JSON has no NaN or infinity).
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the next value in the open array or object needs a comma first.
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// One whole value (objects with their keys in sorted order when `sortedKeys`).
    public mutating func write(_ value: JSONValue, sortedKeys: Bool = false) {
        separate()
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .int(let number): append(String(number))
        case .double(let number): append(number.isFinite ? Self.format(number) : "0")
        case .string(let text): writeString(text)
        case .array(let items):
            beginArray()
            for item in items { write(item, sortedKeys: sortedKeys) }
            endArray()
        case .object(let members):
            beginObject()
            if sortedKeys {
                for key in members.keys.sorted() { self.key(key); write(members[key]!, sortedKeys: true) }
            } else {
                for (key, member) in members { self.key(key); write(member, sortedKeys: false) }
            }
            endObject()
        }
        needsComma = true
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A value already written as JSON (by another `JSONWriter`).
    public mutating func writeEncoded(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// An object member's key; its value follows with `write` (or a begin…end pair).
    public mutating func key(_ name: String) {
        separate()
        writeString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// The comma between two values of an array or members of an object.
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// A string with the escapes RFC 8259 §7 requires (quote, backslash, control characters).
    private mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\n"): append("\\n")
            case UInt8(ascii: "\r"): append("\\r")
            case UInt8(ascii: "\t"): append("\\t")
            case 0..<0x20:
                append("\\u00")
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 15)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Whole numbers without a fraction (1 rather than 1.0, as JSONEncoder
    /// writes them); others in Swift's shortest round-trip form, which is valid JSON.
    static func format(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return number.description
    }
}

extension JSONValue {
    /// Compact JSON bytes of this value (see `JSONWriter`).
    public func jsonBytes(sortedKeys: Bool = false) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self, sortedKeys: sortedKeys)
        return writer.bytes
    }
}
