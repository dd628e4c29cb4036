/// The bytes a BitFountain node signs for each KRPC message (DESIGN §3).
///
/// The message carries two extra top-level keys, `k` (32-byte ed25519 public
/// key) and `sig` (64-byte signature), over the concatenation of these fields,
/// each preceded by its length as a 2-byte big-endian integer:
/// `"bf-krpc-1"`, `t`, `y`, `q` (empty in responses), and the raw bencoded
/// `a`/`r` dictionary exactly as sent. Covering the querier's random `t` means
/// a signed response cannot be replayed to another query.
///
/// Kept apart from the KRPC parser so that code which only parses (a router)
/// pays nothing for it.
public enum KRPCSignature {
    public static let domain: [UInt8] = Array("bf-krpc-1".utf8)

    /// Appends the signed payload to `out` (which the caller may reuse).
    /// Fields longer than 65,535 bytes cannot occur in a ≤ 1,500-byte packet;
    /// they are clamped rather than trusted.
    public static func appendPayload(transactionID: UnsafeRawBufferPointer, type: UInt8,
                                     method: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer,
                                     to out: inout [UInt8]) {
        appendField(UnsafeRawBufferPointer(start: nil, count: 0), literal: domain, to: &out)
        appendField(transactionID, to: &out)
        out.append(0)
        out.append(1)
        out.append(type)
        appendField(method, to: &out)
        appendField(body, to: &out)
    }

    private static func appendField(_ field: UnsafeRawBufferPointer, literal: [UInt8]? = nil, to out: inout [UInt8]) {
        if let literal {
            out.append(UInt8(literal.count >> 8))
            out.append(UInt8(truncatingIfNeeded: literal.count))
            out.append(contentsOf: literal)
            return
        }
        let count = min(field.count, 0xFFFF)
        out.append(UInt8(count >> 8))
        out.append(UInt8(truncatingIfNeeded: count))
        if count > 0 { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: field[0..<count])) }
    }

    /// The payload as a new array (tests, tools).
    public static func payload(transactionID: [UInt8], type: UInt8, method: [UInt8], body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        transactionID.withUnsafeBytes { t in
            method.withUnsafeBytes { q in
                body.withUnsafeBytes { b in appendPayload(transactionID: t, type: type, method: q, body: b, to: &out) }
            }
        }
        return out
    }
}
