import NIOCore
import Testing
@testable import UTP

@Suite struct UTPPacketCodecTests {
    @Test func encodesTheHeaderFieldsBigEndianAtTheirBEP29Offsets() {
        let header = UTPHeader(
            type: .data, connectionID: 0x1234, timestampMicroseconds: 0x0102_0304,
            timestampDifferenceMicroseconds: 0x0506_0708, windowSize: 0x090A_0B0C,
            sequenceNumber: 0xABCD, ackNumber: 0xEF01)
        let bytes = Array(buffer: UTPPacketCodec.encode(UTPPacket(header: header, payload: ByteBuffer(bytes: [0xAA]))))
        #expect(bytes == [
            0x01, 0x00, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            0x09, 0x0A, 0x0B, 0x0C, 0xAB, 0xCD, 0xEF, 0x01, 0xAA,
        ])
    }

    @Test func firstByteIsTypeShiftedLeftFourOrOne() {
        #expect(UTPHeader(type: .syn, connectionID: 0).firstByte == 0x41)
        #expect(UTPHeader(type: .state, connectionID: 0).firstByte == 0x21)
        #expect(UTPHeader(type: .reset, connectionID: 0).firstByte == 0x31)
    }

    @Test func selectiveAckBitZeroIsAckPlusTwoLeastSignificantFirst() throws {
        // A STATE acking 10 that also reports 12 (offset 0) and 20 (offset 8) received.
        let bytes: [UInt8] = [0x21, 0x01, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 0, 10,
                              0x00, 0x04, 0b0000_0001, 0b0000_0001, 0, 0]
        let packet = try UTPPacketCodec.decode(ByteBuffer(bytes: bytes))
        let sack = try #require(packet.selectiveAck)
        #expect(sack.ackedOffsets == [0, 8])
        #expect(packet.header.windowSize == 0x1000)
        #expect(packet.payload.readableBytes == 0)
        #expect(UTPSelectiveAck(ackedOffsets: [0, 8]) == sack)
    }

    @Test func unknownExtensionsAreSkippedAndThePayloadFollowsThem() throws {
        // Extension 2 (libtorrent's close reason, 4 bytes), then the selective ACK, then payload.
        var bytes: [UInt8] = [0x01, 0x02, 0, 7] + [UInt8](repeating: 0, count: 12) + [0, 5, 0, 4]
        bytes += [0x01, 4, 0xDE, 0xAD, 0xBE, 0xEF]
        bytes += [0x00, 4, 0xFF, 0, 0, 0]
        bytes += [0x68, 0x69]
        let packet = try UTPPacketCodec.decode(ByteBuffer(bytes: bytes))
        #expect(packet.selectiveAck?.ackedOffsets == Array(0..<8))
        #expect(Array(buffer: packet.payload) == [0x68, 0x69])
    }

    @Test(arguments: [
        ([UInt8](), UTPPacketError.truncatedHeader(length: 0)),
        ([0x01] + [UInt8](repeating: 0, count: 18), .truncatedHeader(length: 19)),
        ([0x02] + [UInt8](repeating: 0, count: 19), .unsupportedVersion(2)),
        ([0x64] + [UInt8](repeating: 0, count: 19), .unsupportedVersion(4)),
        ([0x51] + [UInt8](repeating: 0, count: 19), .unknownType(5)),
        ([0xF1] + [UInt8](repeating: 0, count: 19), .unknownType(15)),
        // Extension chain announced, no extension bytes.
        ([0x01, 0x01] + [UInt8](repeating: 0, count: 18), .truncatedExtension(type: 1)),
        // Extension length 8 with only 4 bytes present.
        ([0x01, 0x01] + [UInt8](repeating: 0, count: 18) + [0, 8, 1, 2, 3, 4], .truncatedExtension(type: 1)),
        ([0x01, 0x01] + [UInt8](repeating: 0, count: 18) + [0, 3, 1, 2, 3], .invalidSelectiveAckLength(3)),
        ([0x01, 0x01] + [UInt8](repeating: 0, count: 18) + [0, 0], .invalidSelectiveAckLength(0)),
        ([0x01, 0x01] + [UInt8](repeating: 0, count: 18) + [1, 4, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0], .duplicateSelectiveAck),
    ] as [([UInt8], UTPPacketError)])
    func malformedDatagramsAreRejectedWithTheReason(bytes: [UInt8], expected: UTPPacketError) {
        #expect(throws: expected) { try UTPPacketCodec.decode(ByteBuffer(bytes: bytes)) }
    }

    @Test func aSelectiveAckOverTheBoundIsRejected() {
        let bytes: [UInt8] = [0x21, 0x01] + [UInt8](repeating: 0, count: 18) + [0, 0xFF] + [UInt8](repeating: 0, count: 255)
        #expect(throws: UTPPacketError.invalidSelectiveAckLength(255)) { try UTPPacketCodec.decode(ByteBuffer(bytes: bytes)) }
    }

    @Test func anEndlessExtensionChainIsCutOff() {
        // Every extension names another unknown one after it: 20 empty extensions.
        let bytes: [UInt8] = [0x21, 0x09] + [UInt8](repeating: 0, count: 18) + Array(repeating: [0x09, 0], count: 20).flatMap { $0 }
        #expect(throws: UTPPacketError.tooManyExtensions) { try UTPPacketCodec.decode(ByteBuffer(bytes: bytes)) }
    }

    @Test func truncatingAnyValidPacketAtAnyByteNeverCrashes() throws {
        let packet = UTPPacket(
            header: UTPHeader(type: .state, connectionID: 9, sequenceNumber: 3, ackNumber: 4),
            selectiveAck: UTPSelectiveAck(ackedOffsets: [1, 40]))
        let bytes = Array(buffer: UTPPacketCodec.encode(packet))
        for cut in 0..<bytes.count {
            let result = Result { () throws(UTPPacketError) in try UTPPacketCodec.decode(ByteBuffer(bytes: bytes[..<cut])) }
            if cut < UTPHeader.length {
                #expect(throws: UTPPacketError.truncatedHeader(length: cut)) { try result.get() }
            } else if cut < 22 + 8 {
                #expect(throws: UTPPacketError.truncatedExtension(type: 1)) { try result.get() }
            }
        }
    }

    @Test func randomPacketsRoundTrip() throws {
        var rng = SeededGenerator(seed: 29)
        for _ in 0..<2_000 {
            let header = UTPHeader(
                type: UTPPacketType.allCases.randomElement(using: &rng)!,
                connectionID: .random(in: .min ... .max, using: &rng),
                timestampMicroseconds: .random(in: .min ... .max, using: &rng),
                timestampDifferenceMicroseconds: .random(in: .min ... .max, using: &rng),
                windowSize: .random(in: .min ... .max, using: &rng),
                sequenceNumber: .random(in: .min ... .max, using: &rng),
                ackNumber: .random(in: .min ... .max, using: &rng))
            let offsets = (0..<Int.random(in: 0...6, using: &rng)).map { _ in Int.random(in: 0..<2_016, using: &rng) }
            let payload = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let packet = UTPPacket(header: header, selectiveAck: UTPSelectiveAck(ackedOffsets: offsets), payload: ByteBuffer(bytes: payload))
            let encoded = UTPPacketCodec.encode(packet)
            #expect(encoded.readableBytes == UTPPacketCodec.encodedLength(packet))
            let decoded = try UTPPacketCodec.decode(encoded)
            #expect(decoded == packet)
            #expect(Set(decoded.selectiveAck?.ackedOffsets ?? []) == Set(offsets))
        }
    }

    @Test func randomGarbageIsRejectedOrDecodedButNeverCrashes() {
        var rng = SeededGenerator(seed: 4_242)
        var decodedCount = 0
        for _ in 0..<5_000 {
            var bytes = (0..<Int.random(in: 0...60, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Half the time a plausible first byte (types 0...3, version 1), so the extension parser is reached.
            if !bytes.isEmpty, Bool.random(using: &rng) { bytes[0] = (bytes[0] & 0x30) | 0x01 }
            if let packet = try? UTPPacketCodec.decode(ByteBuffer(bytes: bytes)) {
                decodedCount += 1
                #expect(packet.payload.readableBytes <= bytes.count - UTPHeader.length)
            }
        }
        #expect(decodedCount > 0)
    }
}

@Suite struct UTPDatagramKindTests {
    @Test func krpcAndUTPAreToldApartByTheFirstByte() {
        #expect(UTPDatagramKind.classify(Array("d1:ad2:id20:".utf8)) == .krpc)
        for type in UTPPacketType.allCases {
            #expect(UTPDatagramKind.classify(firstByte: type.rawValue << 4 | 1) == .utp)
        }
        #expect(UTPDatagramKind.classify(firstByte: 0x51) == .unknown)
        #expect(UTPDatagramKind.classify(firstByte: 0x42) == .unknown)
        #expect(UTPDatagramKind.classify([UInt8]()) == .unknown)
    }

    @Test func everyByteHasExactlyOneKindAndOnlySixAreAccepted() {
        let kinds = (0...255).map { UTPDatagramKind.classify(firstByte: UInt8($0)) }
        #expect(kinds.filter { $0 == .utp }.count == 5)
        #expect(kinds.filter { $0 == .krpc }.count == 1)
    }
}
