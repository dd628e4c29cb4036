/// Why a byte string is not acceptable bencode, and where the problem starts.
public struct BencodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case leadingZero
        case negativeZero
        case emptyInteger
        case integerOverflow
        case stringTooLong(length: Int, limit: Int)
        case nestingTooDeep(limit: Int)
        case nonStringKey
        case duplicateKey
        case unsortedKey
        case trailingData
    }

    public let reason: Reason
    /// Byte offset, from the start of the input, where the problem was found.
    public let offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "input ends in the middle of a value"
        case .unexpectedByte(let byte): what = "unexpected byte 0x\(String(byte, radix: 16))"
        case .leadingZero: what = "number with a leading zero"
        case .negativeZero: what = "negative zero (i-0e)"
        case .emptyInteger: what = "integer without digits"
        case .integerOverflow: what = "integer does not fit in 64 bits"
        case .stringTooLong(let length, let limit): what = "string of \(length) bytes exceeds the limit of \(limit)"
        case .nestingTooDeep(let limit): what = "nesting deeper than \(limit) levels"
        case .nonStringKey: what = "dictionary key is not a byte string"
        case .duplicateKey: what = "duplicate dictionary key"
        case .unsortedKey: what = "dictionary keys are not in sorted order"
        case .trailingData: what = "trailing data after the value"
        }
        return "invalid bencode at byte \(offset): \(what)"
    }
}
