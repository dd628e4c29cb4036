/// Collects the packets of an object in memory, in any order, and returns the
/// object once every block can be decoded — the shape of raptorq's `Decoder`.
/// For objects that fit in memory; files go through `ObjectDecoder` directly.
/// A block stores at most 2K + 16 packets until it decodes, so a stream of
/// distinct junk packets cannot grow memory without bound.
public final class ObjectPacketDecoder {
    public let decoder: ObjectDecoder
    /// Per block: the symbols received so far, back to back, and their ESIs.
    private var symbolData: [[UInt8]]
    private var esis: [[UInt32]]
    private var seen: [Set<UInt32>]
    private var decoded: [Bool]
    private var object: [UInt8]

    public init(_ oti: ObjectTransmissionInformation) {
        decoder = ObjectDecoder(oti)
        let blocks = oti.sourceBlocks
        symbolData = Array(repeating: [], count: blocks)
        esis = Array(repeating: [], count: blocks)
        seen = Array(repeating: [], count: blocks)
        decoded = Array(repeating: false, count: blocks)
        // Every byte is written by the block decodes before the object is handed out.
        object = [UInt8](unsafeUninitializedCapacity: Int(oti.transferLength)) { _, count in count = Int(oti.transferLength) }
    }

    public var isComplete: Bool { !decoded.contains(false) }

    /// Adds a packet (payload ID + T bytes); returns the object once it is complete.
    @discardableResult
    public func add(packet: [UInt8]) throws(RaptorQError) -> [UInt8]? {
        let t = decoder.oti.symbolSize
        guard packet.count == PayloadID.encodedSize + t else {
            throw .invalidPacket("packet of \(packet.count) bytes, expected \(PayloadID.encodedSize + t)")
        }
        let id = try packet.withBytes { (bytes) throws(RaptorQError) in try PayloadID(encoded: bytes) }
        let z = Int(id.sourceBlock)
        guard z < esis.count else {
            throw .invalidPacket("source block \(z) does not exist (the object has \(esis.count))")
        }
        if decoded[z] || seen[z].contains(id.esi) { return isComplete ? object : nil }
        let k = decoder.layout.sourceSymbols(inBlock: z)
        guard esis[z].count < BlockDecoder.defaultCapacity(sourceSymbolCount: k) else {
            throw .capacityExceeded("source block \(z) already holds \(esis[z].count) packets and still does not decode")
        }
        seen[z].insert(id.esi)
        if symbolData[z].isEmpty { symbolData[z].reserveCapacity((k + 2) * t) }
        symbolData[z].append(contentsOf: packet[PayloadID.encodedSize...])
        esis[z].append(id.esi)
        if esis[z].count >= k { tryBlock(z) }
        return isComplete ? object : nil
    }

    private func tryBlock(_ z: Int) {
        let t = decoder.oti.symbolSize
        let blockESIs = esis[z]
        let succeeded: Bool = symbolData[z].withUnsafeBytes { data in
            let symbols = blockESIs.enumerated().map { ReceivedSymbol(esi: $1, data: data.baseAddress! + $0 * t) }
            return object.withUnsafeMutableBytes { target in
                (try? decoder.decodeBlock(z, symbols: symbols, into: target)) != nil
            }
        }
        if succeeded {
            decoded[z] = true
            symbolData[z] = []
            esis[z] = []
        }
    }
}
