import NIOCore
import PeerWire

/// Memory for one piece while its blocks arrive, handed to the storage thread
/// for hashing and writing once complete. A class so the bytes are never
/// copied as the piece moves between the state machine and the I/O pool; only
/// one owner touches it at a time (the machine until `.store`, then the pool).
public final class PieceBuffer: @unchecked Sendable {
    public let piece: Int
    public let bytes: UnsafeMutableRawBufferPointer

    public init(piece: Int, length: Int) {
        self.piece = piece
        bytes = .allocate(byteCount: max(length, 1), alignment: 64)
    }

    public var count: Int { bytes.count }

    deinit { bytes.deallocate() }
}

/// Block bookkeeping for one piece being downloaded: which blocks have arrived,
/// who sent each (for blame when the hash fails), how many requests are out
/// for each, and where the next unrequested block is.
///
/// This is the one place that knows how a piece is put together. Blocks are
/// the RaptorQ source symbols of the piece (T = 16 KiB, K = `blockCount`);
/// with bf_fountain, repair symbols complete it from any K symbols
/// (SymbolAssembly.swift).
public struct PieceAssembly: Sendable {
    public typealias PeerKey = UInt64

    public let piece: Int
    public let length: Int
    public let blockCount: Int
    public let buffer: PieceBuffer
    public private(set) var receivedCount = 0
    /// Blocks with no request out and no data yet.
    public private(set) var unrequestedCount: Int
    /// Blocks with no data yet and at least one request out.
    public private(set) var requestedBlockCount = 0
    private var received: [Bool]
    private var activeRequests: [UInt8]
    private(set) var senders: [PeerKey?]
    private var cursor = 0
    /// Where the piece is in its life: the machine does not touch the buffer
    /// while it is being decoded or stored off the event loop.
    var phase = Phase.collecting
    /// bf_fountain repair symbols and pollution bookkeeping.
    var repair = RepairSymbols()

    enum Phase: Sendable { case collecting, decoding, storing }

    public init(piece: Int, length: Int) {
        self.piece = piece
        self.length = length
        blockCount = (length + blockSize - 1) / blockSize
        buffer = PieceBuffer(piece: piece, length: length)
        received = [Bool](repeating: false, count: blockCount)
        activeRequests = [UInt8](repeating: 0, count: blockCount)
        senders = [PeerKey?](repeating: nil, count: blockCount)
        unrequestedCount = blockCount
    }

    public var isComplete: Bool { receivedCount == blockCount }
    /// Peers that sent at least one block of this piece.
    public var contributors: Set<PeerKey> { Set(senders.compactMap { $0 }) }

    public func request(forBlock index: Int) -> BlockRequest {
        let begin = index * blockSize
        return BlockRequest(piece: piece, begin: begin, length: min(blockSize, length - begin))
    }

    /// The block index of a request, when it is exactly one of our blocks.
    public func blockIndex(of request: BlockRequest) -> Int? {
        guard request.piece == piece, request.begin % blockSize == 0 else { return nil }
        let index = request.begin / blockSize
        guard index < blockCount, request.length == min(blockSize, length - request.begin) else { return nil }
        return index
    }

    public func isReceived(_ index: Int) -> Bool { received[index] }
    public func requestCount(_ index: Int) -> Int { Int(activeRequests[index]) }

    /// Claims the next block nobody has been asked for.
    public mutating func takeUnrequested() -> Int? {
        guard unrequestedCount > 0 else { return nil }
        for offset in 0..<blockCount {
            let index = (cursor + offset) % blockCount
            if !received[index], activeRequests[index] == 0 {
                cursor = index + 1
                return index
            }
        }
        return nil
    }

    public mutating func markRequested(_ index: Int) {
        if activeRequests[index] == 0, !received[index] {
            unrequestedCount -= 1
            requestedBlockCount += 1
        }
        activeRequests[index] &+= 1
    }

    /// A request was cancelled, rejected or timed out: the block may be asked for again.
    public mutating func markRequestDropped(_ index: Int) {
        guard activeRequests[index] > 0 else { return }
        activeRequests[index] -= 1
        if activeRequests[index] == 0, !received[index] {
            unrequestedCount += 1
            requestedBlockCount -= 1
            cursor = min(cursor, index)
        }
    }

    /// Copies a block in. Returns false when it was already there (a duplicate from endgame).
    public mutating func receive(_ index: Int, data: ByteBuffer, from peer: PeerKey) -> Bool {
        guard !received[index] else { return false }
        let begin = index * blockSize
        data.withUnsafeReadableBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[begin..<(begin + source.count)]).copyMemory(from: source)
        }
        if activeRequests[index] == 0 { unrequestedCount -= 1 } else { requestedBlockCount -= 1 }
        received[index] = true
        senders[index] = peer
        receivedCount += 1
        return true
    }

    /// Forgets a received block (its sender turned out to send wrong data): it is wanted again.
    mutating func unreceive(_ index: Int) {
        guard received[index] else { return }
        received[index] = false
        senders[index] = nil
        receivedCount -= 1
        if activeRequests[index] == 0 {
            unrequestedCount += 1
            cursor = min(cursor, index)
        } else {
            requestedBlockCount += 1
        }
    }

}
