import Bencode
import Metainfo
import RaptorQ
import Swarm

/// What is read back from disk: resume data, and the parts of an `.rq` file.
enum ResumeTarget {
    @Sendable static func run(_ bytes: [UInt8]) {
        guard let resume = try? ResumeData(decoding: bytes) else { return }
        require(resume.have.count < 1 << 26, "\(resume.have.count) pieces")
        let again = try? ResumeData(decoding: resume.encoded)
        require(again == resume, "resume data changed through encoding")
    }
}

/// `.rq` files: a 12-byte object header (OTI), then packets of a 4-byte payload
/// ID and T bytes. The file reader itself lives in the executable; its parts
/// are fuzzed here: the header, the payload IDs and the packet decoder that
/// collects them (small objects only, so that a run stays fast).
enum RaptorQTarget {
    @Sendable static func run(_ bytes: [UInt8]) {
        let header = ObjectTransmissionInformation.encodedSize
        guard bytes.count >= header, let oti = try? ObjectTransmissionInformation(encoded: bytes[0..<header]) else { return }
        // The reserved byte is ignored (and written as zero); everything else survives a round trip.
        require((try? ObjectTransmissionInformation(encoded: oti.encoded)) == oti, "OTI changed through encoding")
        let body = bytes[header...]
        var packetIDs: [PayloadID] = []
        body.withUnsafeBytes { raw in
            var offset = 0
            while offset + PayloadID.encodedSize <= raw.count {
                if let id = try? PayloadID(encoded: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + PayloadID.encodedSize)])) {
                    var out = [UInt8](repeating: 0, count: PayloadID.encodedSize)
                    out.withUnsafeMutableBytes { id.write(to: $0.baseAddress!) }
                    require(out == Array(raw[offset..<(offset + PayloadID.encodedSize)]), "payload ID does not re-encode")
                    packetIDs.append(id)
                }
                offset += PayloadID.encodedSize + oti.symbolSize
            }
        }
        // Decoding proper: only small objects (a fuzz run must stay fast).
        guard oti.transferLength <= 4_096, oti.symbolSize <= 256 else { return }
        let decoder = ObjectPacketDecoder(oti)
        let packetSize = PayloadID.encodedSize + oti.symbolSize
        var start = body.startIndex
        while start + packetSize <= body.endIndex {
            let packet = Array(body[start..<(start + packetSize)])
            start += packetSize
            guard let object = try? decoder.add(packet: packet) else { continue }
            require(object.count == Int(oti.transferLength), "object of \(object.count) bytes, expected \(oti.transferLength)")
        }
    }
}
