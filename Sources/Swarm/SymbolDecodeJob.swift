import Crypto
import PeerWire
import RaptorQ

/// Rebuilds one piece from the symbols in hand and checks its SHA-1: pure
/// computation, run off the event loop by the adapter (`TorrentAction.decode`),
/// then handed back with `TorrentMachine.symbolsDecoded`.
///
/// Source symbols are read where they are (the piece buffer) and missing ones
/// are written there; repair symbols come from the assembly's own copy. When
/// the result does not match the piece hash, the job looks for the peer that
/// sent garbage (PollutionDetection.swift). The machine does not touch the
/// buffer while the job runs.
public final class SymbolDecodeJob: @unchecked Sendable {
    public typealias PeerKey = PieceAssembly.PeerKey

    public enum Outcome: Sendable, Equatable {
        case pending
        /// The piece is in the buffer and matches its hash. `culprits`: peers
        /// whose symbols disagree with it, with how many bad symbols each sent
        /// (found by leaving peers out after a first decode failed the hash).
        case verified(culprits: [PeerKey: Int])
        /// These symbols do not determine the piece: one or two more are needed.
        case undecodable
        /// Wrong data, and everything came from this one peer.
        case soleSenderWrong(PeerKey)
        /// Wrong data from several peers; leaving out each of `tested` did not
        /// help, and the others could not be left out (too few symbols without them).
        case corrupt(tested: Set<PeerKey>)
    }

    public let piece: Int
    public let buffer: PieceBuffer
    let expectedHash: [UInt8]
    /// Per block (source symbol): who sent it, nil when it is missing.
    let sourceSenders: [PeerKey?]
    let repairESIs: [UInt32]
    let repairSenders: [PeerKey]
    /// T bytes per repair symbol, in the order of `repairESIs`.
    let repairBytes: [UInt8]
    /// Contributors to leave out in turn, most promising first.
    let suspects: [PeerKey]
    public private(set) var outcome = Outcome.pending

    /// A job over the blocks already in `buffer` (`sourceSenders[i]` non-nil for
    /// each block present) and the given repair symbols; `suspects` are the
    /// contributors to leave out in turn should the hash fail.
    public init(piece: Int, buffer: PieceBuffer, expectedHash: [UInt8], sourceSenders: [PeerKey?],
                repairESIs: [UInt32], repairSenders: [PeerKey], repairBytes: [UInt8], suspects: [PeerKey]) {
        self.piece = piece
        self.buffer = buffer
        self.expectedHash = expectedHash
        self.sourceSenders = sourceSenders
        self.repairESIs = repairESIs
        self.repairSenders = repairSenders
        self.repairBytes = repairBytes
        self.suspects = suspects
    }

    var sourceSymbolCount: Int { sourceSenders.count }
    static let symbolSize = BFFountain.symbolSize

    /// Peers that sent at least one of the symbols.
    var contributors: Set<PeerKey> { Set(sourceSenders.compactMap { $0 } + repairSenders) }

    /// Decodes, verifies and, on a mismatch, hunts for the polluter. Runs once, on any thread.
    public func run() {
        guard case .pending = outcome else { return }
        let received = sourceSenders.filter { $0 != nil }.count + repairESIs.count
        let decoder: BlockDecoder
        do {
            decoder = try BlockDecoder(sourceSymbolCount: sourceSymbolCount, symbolSize: Self.symbolSize,
                                       capacity: max(received, sourceSymbolCount), decodingInPlace: buffer.bytes)
            for index in sourceSenders.indices where sourceSenders[index] != nil {
                try decoder.addSourceSymbolInPlace(esi: UInt32(index))
            }
            // (A typed-throws closure here crashes the 6.3 compiler: errors become a flag.)
            let added = repairBytes.withUnsafeBytes { bytes in
                repairESIs.enumerated().allSatisfy { offset, esi in
                    let start = offset * Self.symbolSize
                    return (try? decoder.add(esi: esi, symbol: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Self.symbolSize)]))) != nil
                }
            }
            guard added else { throw RaptorQError.invalidPacket("a repair symbol was refused") }
            try decoder.decode()
        } catch {
            outcome = .undecodable
            return
        }
        if matchesHash(UnsafeRawBufferPointer(buffer.bytes)) {
            outcome = .verified(culprits: [:])
            return
        }
        let senders = contributors
        if senders.count == 1 {
            outcome = .soleSenderWrong(senders.first!)
            return
        }
        outcome = leaveOneOut(decoder)
    }

    func matchesHash(_ bytes: UnsafeRawBufferPointer) -> Bool {
        Insecure.SHA1.hash(data: UnsafeRawBufferPointer(rebasing: bytes[0..<buffer.count])).elementsEqual(expectedHash)
    }
}
