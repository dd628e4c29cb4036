import Foundation
import RaptorQ

/// The packets of `.rq` files: how many repair packets each block gets, where
/// each packet goes in the file, and reading them back by source block.

/// How many repair packets each block gets.
struct FecRepairAmount {
    enum Amount { case percent(Double), total(Int) }
    let amount: Amount
    static let maxTotal = 255 << 24

    init(parsing text: String) throws {
        if text.hasSuffix("%") {
            guard let value = Double(text.dropLast()), value >= 0, value <= 10_000 else {
                throw CLIError("--repair: '\(text)' is not a percentage from 0% to 10000%")
            }
            amount = .percent(value)
        } else {
            guard let value = Int(text), value >= 0 else {
                throw CLIError("--repair: '\(text)' is neither a count (500) nor a percentage (20%)")
            }
            // No object has room for more (255 blocks of 2^24 symbols); the bound
            // also keeps the spreading over blocks (total × K) from overflowing.
            guard value <= Self.maxTotal else {
                throw CLIError("--repair: \(value) repair packets exceed RaptorQ's \(Self.maxTotal) (255 blocks of 2^24 symbols)")
            }
            amount = .total(value)
        }
    }

    func perBlock(_ layout: ObjectLayout) throws -> [Int] {
        let counts = (0..<layout.blockCount).map(layout.sourceSymbols(inBlock:))
        let totalSource = counts.reduce(0, +)
        let repair: [Int] = counts.map { k in
            switch amount {
            case .percent(let share): return Int((Double(k) * share / 100).rounded(.up))
            case .total(let total): return totalSource == 0 ? 0 : (total * k + totalSource - 1) / totalSource
            }
        }
        for (k, r) in zip(counts, repair) where k + r > 1 << 24 {
            throw CLIError("--repair: \(r) repair packets for a block of \(k) exceed RaptorQ's 2^24 symbols per block")
        }
        return repair
    }
}

/// The packets of an .rq file, by source block, read in place from the mapping.
/// A block keeps its first 2K + 16 distinct packets: more cannot be needed, and
/// the index stays bounded however many packets a hostile file repeats or adds.
struct FecPacketIndex {
    let oti: ObjectTransmissionInformation
    private(set) var packetCount = 0
    private(set) var ignoredPackets = 0
    let trailingBytes: Int
    /// Per block: distinct packets in file order.
    private var blocks: [[ReceivedSymbol]]

    init(file: MappedInput) throws {
        let header = ObjectTransmissionInformation.encodedSize
        guard file.bytes.count >= header else {
            throw CLIError("\(file.path): not an .rq file (\(file.bytes.count) bytes, shorter than its 12-byte header)")
        }
        do {
            oti = try ObjectTransmissionInformation(encoded: file.bytes[0..<header])
        } catch {
            throw CLIError("\(file.path): not a usable .rq header: \(error)")
        }
        let packetSize = PayloadID.encodedSize + oti.symbolSize
        let body = file.bytes.count - header
        trailingBytes = body % packetSize
        blocks = Array(repeating: [], count: oti.sourceBlocks)
        let layout = ObjectLayout(oti)
        var seen = Array(repeating: Set<UInt32>(), count: oti.sourceBlocks)
        guard let base = file.bytes.baseAddress else { return }
        for n in 0..<(body / packetSize) {
            let packet = base + header + n * packetSize
            let id = try PayloadID(encoded: UnsafeRawBufferPointer(start: packet, count: PayloadID.encodedSize))
            let block = Int(id.sourceBlock)
            guard block < blocks.count else {
                ignoredPackets += 1
                continue
            }
            packetCount += 1
            let capacity = BlockDecoder.defaultCapacity(sourceSymbolCount: layout.sourceSymbols(inBlock: block))
            guard blocks[block].count < capacity, seen[block].insert(id.esi).inserted else { continue }
            blocks[block].append(ReceivedSymbol(esi: id.esi, data: packet + PayloadID.encodedSize))
        }
    }

    func distinctCount(ofBlock z: Int) -> Int { blocks[z].count }

    /// The symbols to decode block z with: every source packet, then repair
    /// packets up to K + 2; and every kept packet of the block, as a fallback.
    func symbols(ofBlock z: Int, sourceSymbols k: Int) -> (preferred: [ReceivedSymbol], all: [ReceivedSymbol]) {
        let distinct = blocks[z]
        let source = distinct.filter { $0.esi < UInt32(k) }
        let repair = distinct.filter { $0.esi >= UInt32(k) }
        let preferred = source.count == k ? source : source + repair.prefix(k + 2 - source.count)
        return (preferred, distinct)
    }
}

/// Where each packet goes in an .rq file: the blocks' packets take turns (packet
/// n of each block, then packet n+1, ...), so a damaged or missing stretch of
/// the file costs every block about the same share of its packets rather than
/// wiping out one block. Blocks differ by a packet or two at most; their last
/// packets follow in the same turn order.
struct FecPacketPlacement {
    let counts: [Int]
    private let shortest: Int

    init(counts: [Int]) {
        self.counts = counts
        shortest = counts.min() ?? 0
    }

    func position(block z: Int, packet n: Int) -> Int {
        if n < shortest { return n * counts.count + z }
        var position = shortest * counts.count
        for earlier in shortest..<n { position += counts.filter { $0 > earlier }.count }
        return position + counts.prefix(z).filter { $0 > n }.count
    }
}
