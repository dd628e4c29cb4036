import MultipartKit
import NIOCore
import Testing

@testable import RemoteControl

@Suite struct QBParametersTests {
    @Test func urlEncodedBodyOverridesTheQueryAndDecodesPlusAndPercent() throws {
        let body = ByteBuffer(string: "hashes=abc%7Cdef&category=tv+shows&deleteFiles=True")
        let parameters = try QBParameters(query: "category=movies&limit=5",
                                          contentType: "application/x-www-form-urlencoded", body: body)
        #expect(parameters["category"] == "tv shows")
        #expect(parameters.hashes("hashes") == ["abc", "def"])
        #expect(parameters.bool("deleteFiles") == true)
        #expect(try parameters.int("limit") == 5)
        #expect(parameters.files.isEmpty)
    }

    @Test func anUntypedBodyIsReadAsAForm() throws {
        let parameters = try QBParameters(query: nil, contentType: nil, body: ByteBuffer(string: "rid=7"))
        #expect(try parameters.int("rid") == 7)
    }

    @Test func multipartSeparatesFieldsFromTorrentFiles() throws {
        // Shaped as python-requests sends qbittorrent-api's torrents_add: plain fields, then files.
        let torrent: [UInt8] = Array("d4:infod4:name1:xee".utf8) + [0, 255, 13, 10]
        let parts = [
            MultipartPart(headers: ["Content-Disposition": "form-data; name=\"urls\""], body: "magnet:?xt=urn:btih:aa\nmagnet:?xt=urn:btih:bb"),
            MultipartPart(headers: ["Content-Disposition": "form-data; name=\"stopped\""], body: "True"),
            MultipartPart(headers: ["Content-Disposition": "form-data; name=\"torrent__0\"; filename=\"torrent__0\""], body: torrent),
        ]
        var body = ByteBuffer()
        try MultipartSerializer().serialize(parts: parts, boundary: "b0undary", into: &body)
        let parameters = try QBParameters(query: nil, contentType: "multipart/form-data; boundary=b0undary", body: body)
        #expect(parameters["urls"] == "magnet:?xt=urn:btih:aa\nmagnet:?xt=urn:btih:bb")
        #expect(parameters.bool("stopped") == true)
        #expect(parameters.files == [QBUploadedFile(fieldName: "torrent__0", bytes: torrent)])
    }

    @Test func multipartWithoutBoundaryIsRefused() {
        #expect(throws: QBRequestError.self) {
            try QBParameters(query: nil, contentType: "multipart/form-data", body: ByteBuffer(string: "x"))
        }
    }

    /// Found by the qb-parameters fuzz target: multipart-kit traps on a byte
    /// ≥ 0x80 in a part's header name; the body is refused before it gets there.
    @Test func aNonASCIIHeaderNameIsRefusedNotACrash() throws {
        var body = ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\ntv\r\n--b\r\n")
        body.writeBytes([0xEE] + Array("Content-Disposition: form-data; name=\"urls\"\r\n\r\nmagnet\r\n--b--\r\n".utf8))
        #expect(throws: QBRequestError.self) {
            try QBParameters(query: nil, contentType: "multipart/form-data; boundary=b", body: body)
        }
        // The same bytes in a part's value or body are fine.
        var fine = ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\n")
        fine.writeBytes([0xEE] + Array("tv\r\n--b--\r\n".utf8))
        let parameters = try QBParameters(query: nil, contentType: "multipart/form-data; boundary=b", body: fine)
        #expect(parameters["category"] != nil)
        // A body that ends inside a header value: the guard's scan stops at the end.
        let cut = try? QBParameters(query: nil, contentType: "multipart/form-data; boundary=b",
                                    body: ByteBuffer(string: "--b\r\nContent-Disposition: form-data"))
        #expect(cut?["category"] == nil)
    }

    /// The second finding of the qb-parameters fuzz target: a delimiter that sits inside what
    /// the guard first read as another occurrence's header line, and that multipart-kit's
    /// boundary matcher (which skipped the first occurrence) takes; the non-ASCII header name
    /// comes three lines after it.
    @Test func aNonASCIIHeaderNameBehindADelimiterInsideAHeaderLineIsRefused() throws {
        var body = ByteBuffer(string: "--bf--bfboundary\r\nno colon here \0--bfboundary\r\nContent-Disposition: form-data\r\n")
        body.writeBytes(Array("x: y\r\n-A".utf8) + [0xFF] + Array(": z\r\n\r\nbody\r\n--bfboundary--\r\n".utf8))
        #expect(!MultipartHeaderNames.areASCII(in: body, boundary: "bfboundary"))
        #expect(throws: QBRequestError.self) {
            try QBParameters(query: nil, contentType: "multipart/form-data; boundary=bfboundary", body: body)
        }
    }

    /// Every line ends in a delimiter, so each of the 40,000 occurrences starts a header block
    /// that runs to the end of the body: walking each block anew is ~8 × 10⁸ line walks; each
    /// line walked once is 40,000. The time limit catches the quadratic walk.
    @Test(.timeLimit(.minutes(1))) func delimitersInsideEveryHeaderLineAreScannedInLinearTime() {
        var body = ByteBuffer()
        for _ in 0..<40_000 { body.writeString("x: --b\r\n") }
        #expect(MultipartHeaderNames.areASCII(in: body, boundary: "b"))
        body.writeBytes([0xC3, 0xA9] + Array(": late\r\n".utf8))
        #expect(!MultipartHeaderNames.areASCII(in: body, boundary: "b"), "a bad name after them all is still found")
    }

    @Test func truncatedMultipartIsRefusedOrYieldsNoFields() throws {
        let body = ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"urls\"\r\n\r\nmagnet")
        let parameters = try? QBParameters(query: nil, contentType: "multipart/form-data; boundary=b", body: body)
        // An unterminated part is never delivered as a field.
        #expect(parameters?["urls"] == nil)
    }

    @Test func badNumbersAndMissingParametersAreErrors() throws {
        let parameters = QBParameters(["limit": "ten"])
        #expect(throws: QBRequestError.badParameter("limit", "ten")) { try parameters.int("limit") }
        #expect(throws: QBRequestError.missingParameter("hash")) { try parameters.required("hash") }
        #expect(QBParameters(["hashes": "all"]).hashes("hashes") == nil)
        #expect(QBParameters(["tags": " a, b ,,c"]).list("tags") == ["a", "b", "c"])
    }
}
