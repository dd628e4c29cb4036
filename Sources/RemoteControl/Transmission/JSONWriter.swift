/// Compact JSON straight into a byte buffer. Replies are written with it
/// instead of `JSONEncoder`: a `torrent-get` of 10,000 torrents is 60,000
/// values, and going through `Codable` (a container per value, a dictionary
/// per torrent) made that answer cost ~7× what Transmission's does.
/// Non-finite doubles are written as 0 (JSON has no NaN or infinity).
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the next value in the open array or object needs a comma first.
    private var needsComma = false
    /// The key set of the last object written with sorted keys, in order. The torrents of one
    /// reply share theirs: sorting each one's fifty-odd keys was a third of the time of a
    /// 10,000-torrent `sync/maindata`.
    private var lastSortedKeys: [String] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// One whole value (objects with their keys in sorted order when `sortedKeys`).
    public mutating func write(_ value: JSONValue, sortedKeys: Bool = false) {
        separate()
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .int(let number): writeDigits(number)
        case .double(let number): writeDouble(number)
        case .string(let text): writeString(text)
        case .array(let items):
            beginArray()
            for item in items { write(item, sortedKeys: sortedKeys) }
            endArray()
        case .object(let members):
            beginObject()
            if sortedKeys {
                for key in orderedKeys(of: members) { self.key(key); write(members[key]!, sortedKeys: true) }
            } else {
                for (key, member) in members { self.key(key); write(member, sortedKeys: false) }
            }
            endObject()
        }
        needsComma = true
    }

    /// One integer (no `JSONValue` or `String` made for it: a `torrent-get` writes tens of thousands).
    public mutating func write(_ number: Int64) { element { $0.writeDigits(number) } }

    /// One number; whole ones without a fraction, non-finite ones as 0.
    public mutating func write(_ number: Double) { element { $0.writeDouble(number) } }

    /// One string, escaped.
    public mutating func write(_ text: String) { element { $0.writeString(text) } }

    public mutating func write(_ flag: Bool) { element { $0.append(flag ? "true" : "false") } }

    /// One array element or member value: the comma before it, and the one owed after.
    private mutating func element(_ body: (inout JSONWriter) -> Void) {
        separate()
        body(&self)
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

    /// A key already encoded by `encodedKey` (once per reply, not once per object).
    public mutating func key(encoded: [UInt8]) {
        separate()
        bytes.append(contentsOf: encoded)
        needsComma = false
    }

    /// `"name":` as `key(_:)` writes it.
    public static func encodedKey(_ name: String) -> [UInt8] {
        var writer = JSONWriter(capacity: name.utf8.count + 3)
        writer.key(name)
        return writer.bytes
    }

    private mutating func orderedKeys(of members: [String: JSONValue]) -> [String] {
        if lastSortedKeys.count == members.count, lastSortedKeys.allSatisfy({ members[$0] != nil }) { return lastSortedKeys }
        lastSortedKeys = members.keys.sorted()
        return lastSortedKeys
    }

    /// The comma between two values of an array or members of an object.
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Decimal digits straight into the buffer.
    private mutating func writeDigits(_ number: Int64) {
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        if magnitude < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(magnitude))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            while magnitude > 0 {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Whole numbers without a fraction (1 rather than 1.0, as JSONEncoder
    /// writes them); others in Swift's shortest round-trip form, which is valid JSON.
    private mutating func writeDouble(_ number: Double) {
        guard number.isFinite else { return append("0") }
        if number == number.rounded(), abs(number) < 1e15 { return writeDigits(Int64(number)) }
        append(number.description)
    }

    /// A string with the escapes RFC 8259 §7 requires (quote, backslash, control characters).
    private mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Nearly every string (names, paths, hashes) needs no escape: copied in one go.
        var text = text
        let copied = text.withUTF8 { utf8 -> Bool in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied {
            bytes.append(UInt8(ascii: "\""))
            return
        }
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

}

extension JSONValue {
    /// Compact JSON bytes of this value (see `JSONWriter`).
    public func jsonBytes(sortedKeys: Bool = false) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self, sortedKeys: sortedKeys)
        return writer.bytes
    }
}
