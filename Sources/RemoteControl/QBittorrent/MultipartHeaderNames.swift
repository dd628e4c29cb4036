import NIOCore

/// multipart-kit 4.7.1 looks up every byte of a part's header name in a
/// 128-entry table, so a byte ≥ 0x80 there traps (index out of range) and
/// takes the daemon down with one request; found by the `qb-parameters`
/// fuzz target. Header names are ASCII tokens (RFC 7578 §4.8, RFC 7230 §3.2),
/// so a body that puts any other byte where the parser will read a header
/// name is refused before it reaches the parser.
///
/// The scan is a superset of the parser's: it treats every `--boundary`
/// followed by CRLF as the start of a part's headers (the parser needs a CRLF
/// in front of it, except in the preamble), then walks the header lines the
/// way the parser does: a name up to `:`, a value up to CR, LF, until an empty
/// line.
enum MultipartHeaderNames {
    static func areASCII(in body: ByteBuffer, boundary: String) -> Bool {
        let bytes = body.readableBytesView
        let delimiter = Array("--\(boundary)".utf8)
        var index = bytes.startIndex
        while let found = bytes[index...].firstRange(of: delimiter) {
            index = found.upperBound
            guard index + 1 < bytes.endIndex, bytes[index] == 0x0D, bytes[index + 1] == 0x0A else { continue }
            index += 2
            // One part's header lines.
            while index < bytes.endIndex, bytes[index] != 0x0D {
                while index < bytes.endIndex, bytes[index] != UInt8(ascii: ":"), bytes[index] != 0x0D {
                    if bytes[index] >= 0x80 { return false }
                    index += 1
                }
                guard index < bytes.endIndex, bytes[index] == UInt8(ascii: ":") else { break }
                while index < bytes.endIndex, bytes[index] != 0x0D { index += 1 }  // the value: any byte
                index = min(index + 2, bytes.endIndex)  // CR LF (never past the end: the search resumes here)
            }
        }
        return true
    }
}
