import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// A file part of a multipart request (a .torrent upload).
public struct QBUploadedFile: Sendable, Equatable {
    public var fieldName: String
    public var bytes: [UInt8]
}

/// A qBittorrent API request's parameters: the query string merged with the body, which may be
/// `application/x-www-form-urlencoded` or `multipart/form-data` (qbittorrent-api posts every
/// call, and sends `torrents/add` as multipart). Body fields override query fields.
public struct QBParameters: Sendable, Equatable {
    /// The most parts a multipart body may carry; each torrent file is one part.
    public static let maxParts = 256

    public private(set) var values: [String: String]
    public private(set) var files: [QBUploadedFile]

    public init(_ values: [String: String] = [:], files: [QBUploadedFile] = []) {
        self.values = values
        self.files = files
    }

    /// Decodes the query string and body once, at the edge; nothing downstream sees raw bytes.
    public init(query: String?, contentType: String?, body: ByteBuffer) throws(QBRequestError) {
        values = [:]
        files = []
        if let query, !query.isEmpty { values = try Self.decodeURLEncoded(query) }
        guard body.readableBytes > 0 else { return }
        let mediaType = contentType.flatMap(MediaType.init(from:))
        if let mediaType, mediaType.isType(.multipartForm) {
            guard let parameter = mediaType.parameter, parameter.name.lowercased() == "boundary",
                !parameter.value.isEmpty, parameter.value.utf8.count <= 200
            else { throw .malformedBody("multipart body without a boundary") }
            try decodeMultipart(body, boundary: parameter.value)
        } else {
            // qBittorrent reads an untyped body as a form too (curl -d sends no type).
            let text = String(decoding: body.readableBytesView, as: UTF8.self)
            values.merge(try Self.decodeURLEncoded(text)) { _, body in body }
        }
    }

    public subscript(name: String) -> String? { values[name] }

    public func required(_ name: String) throws(QBRequestError) -> String {
        guard let value = values[name] else { throw .missingParameter(name) }
        return value
    }

    /// qBittorrent's parseBool: "true" in any case is true, anything else false.
    public func bool(_ name: String) -> Bool? {
        values[name].map { $0.lowercased() == "true" }
    }

    public func int(_ name: String) throws(QBRequestError) -> Int? {
        guard let text = values[name], !text.isEmpty else { return nil }
        guard let value = Int(text) else { throw .badParameter(name, text) }
        return value
    }

    /// A `|`-separated hash list; nil when absent or "all" (qBittorrent's "every torrent").
    public func hashes(_ name: String) -> Set<String>? {
        guard let text = values[name], text.lowercased() != "all" else { return nil }
        return Set(text.split(separator: "|").map { $0.lowercased() })
    }

    /// A comma-separated list (tags), trimmed, without empty entries.
    public func list(_ name: String) -> [String] {
        (values[name] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    private static func decodeURLEncoded(_ text: String) throws(QBRequestError) -> [String: String] {
        do {
            return try URLEncodedFormDecoder().decode([String: String].self, from: text)
        } catch {
            throw .malformedBody("form data: \(error)")
        }
    }

    private mutating func decodeMultipart(_ body: ByteBuffer, boundary: String) throws(QBRequestError) {
        guard MultipartHeaderNames.areASCII(in: body, boundary: boundary) else {
            throw .malformedBody("multipart: a part's header name is not ASCII")
        }
        let parser = MultipartParser(boundary: boundary)
        var parts: [MultipartPart] = []
        var headers = HTTPHeaders()
        var partBody = ByteBuffer()
        parser.onHeader = { name, value in headers.add(name: name, value: value) }
        parser.onBody = { chunk in partBody.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append(MultipartPart(headers: headers, body: partBody))
            headers = HTTPHeaders()
            partBody = ByteBuffer()
        }
        do {
            try parser.execute(body)
        } catch {
            throw .malformedBody("multipart: \(error)")
        }
        guard parts.count <= Self.maxParts else { throw .malformedBody("more than \(Self.maxParts) parts") }
        for part in parts {
            guard let name = part.name else { continue }
            let disposition = part.headers.first(name: "Content-Disposition") ?? ""
            if disposition.contains("filename=") || name == "torrents" {
                files.append(QBUploadedFile(fieldName: name, bytes: Array(part.body.readableBytesView)))
            } else {
                values[name] = String(decoding: part.body.readableBytesView, as: UTF8.self)
            }
        }
    }
}
