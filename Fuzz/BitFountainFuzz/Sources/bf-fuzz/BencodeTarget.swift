import Bencode

/// The bencode decoder: spans nest inside the input, and re-encoding is
/// stable (canonical input comes back byte for byte).
enum BencodeTarget {
    @Sendable static func run(_ bytes: [UInt8]) {
        guard let node = try? BencodeDecoder().decode(bytes) else { return }
        require(node.span == 0..<bytes.count, "root span \(node.span) for \(bytes.count) bytes")
        checkSpans(node, within: 0..<bytes.count, bytes: bytes)
        let value = node.value
        let encoded = value.encoded
        guard let again = try? BencodeDecoder().decode(encoded) else {
            require(false, "the encoding of a decoded value does not decode")
            return
        }
        require(again.value == value, "decode(encode(v)) != v")
        require(again.value.encoded == encoded, "encoding is not stable")
        // Input with sorted keys (hence canonical, the decoder being strict) re-encodes to itself.
        if (try? BencodeDecoder(limits: BencodeLimits(requireSortedKeys: true)).decode(bytes)) != nil {
            require(encoded == bytes, "canonical input did not re-encode to itself")
        }
    }

    private static func checkSpans(_ node: BNode, within outer: Range<Int>, bytes: [UInt8]) {
        require(node.span.lowerBound >= outer.lowerBound && node.span.upperBound <= outer.upperBound,
                "span \(node.span) outside \(outer)")
        if let bytesValue = node.bytes { require(bytesValue.count <= node.span.count, "string longer than its span") }
        if let list = node.list {
            var previousEnd = node.span.lowerBound
            for item in list {
                require(item.span.lowerBound >= previousEnd, "list items overlap")
                previousEnd = item.span.upperBound
                checkSpans(item, within: node.span, bytes: bytes)
            }
        }
        if let entries = node.entries {
            for entry in entries { checkSpans(entry.value, within: node.span, bytes: bytes) }
        }
    }
}
