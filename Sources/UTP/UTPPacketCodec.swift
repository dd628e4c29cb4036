import NIOCore

/// Decodes and encodes uTP datagrams (BEP 29). Pure functions over `ByteBuffer`.
public enum UTPPacketCodec {
    /// Extensions a packet may chain before it is rejected; libtorrent and libutp send at most two.
    public static let maximumExtensionCount = 8

    /// Decodes one datagram. The payload is a slice of `datagram` (no copy). Unknown extensions
    /// are skipped; every malformed header is rejected with the reason.
    public static func decode(_ datagram: ByteBuffer) throws(UTPPacketError) -> UTPPacket {
        var buffer = datagram
        guard buffer.readableBytes >= UTPHeader.length else {
            throw .truncatedHeader(length: buffer.readableBytes)
        }
        let first = buffer.readInteger(as: UInt8.self)!
        guard first & 0x0F == UTPHeader.version else { throw .unsupportedVersion(first & 0x0F) }
        guard let type = UTPPacketType(rawValue: first >> 4) else { throw .unknownType(first >> 4) }
        var nextExtension = buffer.readInteger(as: UInt8.self)!
        let header = UTPHeader(
            type: type,
            connectionID: buffer.readInteger(as: UInt16.self)!,
            timestampMicroseconds: buffer.readInteger(as: UInt32.self)!,
            timestampDifferenceMicroseconds: buffer.readInteger(as: UInt32.self)!,
            windowSize: buffer.readInteger(as: UInt32.self)!,
            sequenceNumber: buffer.readInteger(as: UInt16.self)!,
            ackNumber: buffer.readInteger(as: UInt16.self)!
        )
        var selectiveAck: UTPSelectiveAck?
        var extensionCount = 0
        while nextExtension != 0 {
            extensionCount += 1
            guard extensionCount <= maximumExtensionCount else { throw .tooManyExtensions }
            let type = nextExtension
            guard let following = buffer.readInteger(as: UInt8.self),
                  let length = buffer.readInteger(as: UInt8.self).map(Int.init),
                  length <= buffer.readableBytes
            else { throw .truncatedExtension(type: type) }
            if type == UTPSelectiveAck.extensionType {
                guard selectiveAck == nil else { throw .duplicateSelectiveAck }
                guard UTPSelectiveAck.isValidLength(length) else { throw .invalidSelectiveAckLength(length) }
                selectiveAck = UTPSelectiveAck(bitmask: buffer.readBytes(length: length)!)
            } else {
                buffer.moveReaderIndex(forwardBy: length)
            }
            nextExtension = following
        }
        return UTPPacket(header: header, selectiveAck: selectiveAck, payload: buffer)
    }

    /// Bytes `encode` writes for this packet.
    public static func encodedLength(_ packet: UTPPacket) -> Int {
        UTPHeader.length + (packet.selectiveAck.map { 2 + $0.bitmask.count } ?? 0) + packet.payload.readableBytes
    }

    /// Appends the wire form of `packet` to `buffer`.
    public static func encode(_ packet: UTPPacket, into buffer: inout ByteBuffer) {
        let header = packet.header
        buffer.reserveCapacity(minimumWritableBytes: encodedLength(packet))
        buffer.writeInteger(header.firstByte)
        buffer.writeInteger(packet.selectiveAck == nil ? 0 : UTPSelectiveAck.extensionType)
        buffer.writeInteger(header.connectionID)
        buffer.writeInteger(header.timestampMicroseconds)
        buffer.writeInteger(header.timestampDifferenceMicroseconds)
        buffer.writeInteger(header.windowSize)
        buffer.writeInteger(header.sequenceNumber)
        buffer.writeInteger(header.ackNumber)
        if let selectiveAck = packet.selectiveAck {
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt8(selectiveAck.bitmask.count))
            buffer.writeBytes(selectiveAck.bitmask)
        }
        var payload = packet.payload
        buffer.writeBuffer(&payload)
    }

    /// The wire form of `packet` in a new buffer.
    public static func encode(_ packet: UTPPacket, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedLength(packet))
        encode(packet, into: &buffer)
        return buffer
    }
}
