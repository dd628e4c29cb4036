import NIOCore

/// multipart-kit 4.7.1 looks up every byte of a part's header name in a
/// 128-entry table, so a byte ≥ 0x80 there traps (index out of range) and
/// takes the daemon down with one request; found twice by the `qb-parameters`
/// fuzz target. Header names are ASCII tokens (RFC 7578 §4.8, RFC 7230 §3.2),
/// so a body that puts any other byte where the parser may read a header name
/// is refused before it reaches the parser.
///
/// The scan is a superset of the parser's. The parser's boundary matcher is
/// naive (after a partial match it can skip a real delimiter), so which
/// occurrences it takes cannot be predicted cheaply: every `--boundary`
/// followed by CRLF is treated as the start of a part's headers, including
/// one that sits inside the header lines of an earlier occurrence (the second
/// finding: the scan resumed after such a block and missed the delimiter the
/// parser took). From each, the header lines are walked as the parser walks
/// them: a name up to `:`, a value up to CR, LF, until an empty line.
///
/// Each line start is walked once: the walk from a line start is the same
/// whichever occurrence led there, so a chain met again is not walked again,
/// and the scan stays linear in the body however many delimiters it holds.
enum MultipartHeaderNames {
    static func areASCII(in body: ByteBuffer, boundary: String) -> Bool {
        let bytes = body.readableBytesView
        let delimiter = Array("--\(boundary)".utf8)
        var walkedLines = Set<Int>()
        var search = bytes.startIndex
        while search < bytes.endIndex, let found = bytes[search...].firstRange(of: delimiter) {
            // The next occurrence may start inside this one when the boundary repeats itself.
            search = found.lowerBound + 1
            var index = found.upperBound
            guard index + 1 < bytes.endIndex, bytes[index] == 0x0D, bytes[index + 1] == 0x0A else { continue }
            index += 2
            // One part's header lines, up to the empty line (a CR where a name would start).
            while index < bytes.endIndex, bytes[index] != 0x0D, walkedLines.insert(index).inserted {
                while index < bytes.endIndex, bytes[index] != UInt8(ascii: ":"), bytes[index] != 0x0D {
                    if bytes[index] >= 0x80 { return false }
                    index += 1
                }
                guard index < bytes.endIndex, bytes[index] == UInt8(ascii: ":") else { break }
                while index < bytes.endIndex, bytes[index] != 0x0D { index += 1 }  // the value: any byte
                index = min(index + 2, bytes.endIndex)  // CR LF (never past the end)
            }
        }
        return true
    }
}
