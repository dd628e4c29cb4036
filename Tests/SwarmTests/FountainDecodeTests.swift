import Metainfo
import Crypto
import NIOCore
import PeerWire
import RaptorQ
import Testing
@testable import Swarm

/// A piece and its RaptorQ symbols, for feeding assemblies by hand.
struct PieceFixture {
    let data: [UInt8]
    let encoder: BlockEncoder
    let hash: [UInt8]

    init(length: Int, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
        encoder = try! BlockEncoder(source: data, symbolSize: BFFountain.symbolSize)
        hash = Array(Insecure.SHA1.hash(data: data))
    }

    var k: Int { encoder.sourceSymbolCount }

    func block(_ index: Int, corrupt: Bool = false) -> ByteBuffer {
        var bytes = Array(data[(index * blockSize)..<min(data.count, (index + 1) * blockSize)])
        if corrupt { bytes[bytes.count / 2] ^= 0x5A }
        return ByteBuffer(bytes: bytes)
    }

    func repair(_ esi: UInt32, corrupt: Bool = false) -> ByteBuffer {
        var bytes = try! encoder.symbol(esi: esi)
        if corrupt { bytes = bytes.map { $0 &+ 1 } }
        return ByteBuffer(bytes: bytes)
    }

    /// An assembly holding the given blocks and repair symbols (sender per symbol).
    func assembly(blocks: [(index: Int, from: UInt64, corrupt: Bool)],
                  repairs: [(esi: UInt32, from: UInt64, corrupt: Bool)]) -> PieceAssembly {
        var assembly = PieceAssembly(piece: 0, length: data.count)
        for block in blocks { _ = assembly.receive(block.index, data: self.block(block.index, corrupt: block.corrupt), from: block.from) }
        for symbol in repairs {
            let accepted = assembly.receiveRepair(symbol.esi, data: repair(symbol.esi, corrupt: symbol.corrupt), from: symbol.from)
            #expect(accepted)
        }
        return assembly
    }

    func decode(_ assembly: PieceAssembly) -> (SymbolDecodeJob.Outcome, [UInt8]) {
        let job = assembly.makeDecodeJob(expectedHash: hash)
        job.run()
        return (job.outcome, Array(UnsafeRawBufferPointer(rebasing: job.buffer.bytes[0..<data.count])))
    }
}

/// The decode job and leave-one-out, without any network (DESIGN §5).
@Suite struct FountainDecodeTests {
    // A piece of 6 symbols, the last one short: K = 6.
    static let fixture = PieceFixture(length: 5 * blockSize + 1000, seed: 11)

    @Test func piecesDecodeFromAnyKSymbolsFromAnyMixOfPeers() {
        let f = Self.fixture
        #expect(f.k == 6)
        let assembly = f.assembly(blocks: [(0, 1, false), (4, 2, false), (5, 3, false)],
                                  repairs: [(6_000_000, 1, false), (77, 2, false), (12_345, 3, false)])
        #expect(assembly.isReadyToDecode)
        let (outcome, bytes) = f.decode(assembly)
        #expect(outcome == .verified(culprits: [:]))
        let right = bytes == f.data
        #expect(right)
    }

    @Test func symbolsThatDoNotDetermineThePieceAskForMore() throws {
        let f = Self.fixture
        // Find K repair ESIs that RFC 6330 cannot solve (about 1 set in 100).
        var random = SplitMix64(seed: 5)
        var unsolvable: [UInt32]?
        for _ in 0..<20_000 {
            let esis = Array(Set((0..<f.k).map { _ in UInt32.random(in: 6..<200, using: &random) }))
            if esis.count == f.k, try !BlockDecoder.isDecodable(sourceSymbolCount: f.k, esis: esis) {
                unsolvable = esis
                break
            }
        }
        let esis = try #require(unsolvable)
        let assembly = f.assembly(blocks: [], repairs: esis.map { ($0, 1, false) })
        #expect(f.decode(assembly).0 == .undecodable)
    }

    @Test func oneContributorSendingGarbageIsTheCulprit() {
        let f = Self.fixture
        let assembly = f.assembly(blocks: [(0, 9, false), (1, 9, false)],
                                  repairs: [(100, 9, false), (101, 9, true), (102, 9, false), (103, 9, false)])
        #expect(f.decode(assembly).0 == .soleSenderWrong(9))
    }

    @Test func severalContributorsOneBadItIsFoundAndOnlyIt() {
        let f = Self.fixture
        // Peer 3 sends wrong repair symbols; peers 1 and 2 send enough good ones to do without it.
        let assembly = f.assembly(blocks: [(0, 1, false), (1, 1, false), (2, 2, false)],
                                  repairs: [(300, 3, true), (301, 3, true), (200, 1, false), (201, 2, false), (202, 2, false)])
        let (outcome, bytes) = f.decode(assembly)
        #expect(outcome == .verified(culprits: [3: 2]))
        let right = bytes == f.data
        #expect(right, "the piece comes out right all the same")
    }

    @Test func anHonestPeerWhoseAbsenceAlsoFixesThePieceIsNotBlamed() {
        let f = Self.fixture
        // Peer 2 is left out first (it sent the most). Without it the decode may
        // succeed too, yet only the peer whose symbols are proven wrong is blamed.
        let assembly = f.assembly(blocks: [(0, 2, false), (1, 2, false), (2, 2, false), (3, 1, false)],
                                  repairs: [(400, 3, true), (401, 1, false), (402, 1, false), (403, 2, false), (404, 1, false)])
        let (outcome, bytes) = f.decode(assembly)
        #expect(outcome == .verified(culprits: [3: 1]))
        let right = bytes == f.data
        #expect(right)
    }

    @Test func aBadSourceBlockSenderIsFoundToo() {
        let f = Self.fixture
        // Peer 5 (say a stock client) sends three blocks, one of them wrong; peers 6 and 7 send repair symbols.
        let assembly = f.assembly(blocks: [(0, 5, false), (1, 5, true), (2, 5, false), (3, 6, false)],
                                  repairs: [(500, 6, false), (501, 7, false), (502, 7, false), (503, 6, false), (504, 6, false)])
        let (outcome, bytes) = f.decode(assembly)
        #expect(outcome == .verified(culprits: [5: 1]))
        let right = bytes == f.data
        #expect(right)
    }

    @Test func withTooFewSymbolsToLeaveAnyoneOutNobodyIsBlamedYet() {
        let f = Self.fixture
        let assembly = f.assembly(blocks: [(0, 1, false), (1, 2, false)],
                                  repairs: [(600, 3, true), (601, 3, true), (602, 3, true), (603, 1, false), (604, 2, false)])
        #expect(f.decode(assembly).0 == .corrupt(tested: []))
    }

    @Test func aSuspectIsLeftOutFirstAndOthersAlreadyClearedAreNotTriedAgain() {
        let f = Self.fixture
        var assembly = f.assembly(blocks: [(0, 1, false), (1, 1, false), (2, 1, false)],
                                  repairs: [(700, 2, true), (701, 3, false), (702, 3, false), (703, 3, false), (704, 4, false)])
        assembly.repair.suspect = RepairSymbols.Suspicion(tested: [1], target: 2)
        let job = assembly.makeDecodeJob(expectedHash: f.hash)
        #expect(job.suspects.first == 2)
        #expect(!job.suspects.contains(1))
        job.run()
        #expect(job.outcome == .verified(culprits: [2: 1]))
    }

    @Test func stillNeededCountsKThenKPlusOneWithoutTheSuspect() {
        let f = Self.fixture
        var assembly = f.assembly(blocks: [(0, 1, false), (1, 2, false)], repairs: [(800, 2, false)])
        #expect(assembly.symbolsStillNeeded == 3)
        assembly.repair.extraNeeded = 1
        #expect(assembly.symbolsStillNeeded == 4)
        assembly.repair.suspect = RepairSymbols.Suspicion(tested: [], target: 2)
        #expect(assembly.symbolsStillNeeded == 6, "K + 1 = 7 symbols from others, who sent 1")
    }

    @Test func purgingAPeerForgetsItsBlocksAndSymbols() {
        let f = Self.fixture
        var assembly = f.assembly(blocks: [(0, 1, false), (1, 2, false)], repairs: [(900, 2, false), (901, 1, false)])
        assembly.repair.extraNeeded = 1
        assembly.repair.used = [900, 901, 902]
        assembly.purge(2)
        #expect(assembly.repair.extraNeeded == 1 && assembly.repair.used == [900, 901, 902], "the rest of the bookkeeping stays")
        #expect(assembly.symbolCount == 2)
        #expect(!assembly.isReceived(1))
        #expect(assembly.repair.senders == [1])
        #expect(assembly.repair.esis == [901])
        #expect(Array(assembly.repair.bytes) == Array(f.repair(901).readableBytesView))
        #expect(assembly.unrequestedCount == f.k - 1)
    }

    @Test func repairESIsAreRandomDistinctAndAboveK() {
        var assembly = PieceAssembly(piece: 0, length: 16 * blockSize)
        var random = SplitMix64(seed: 3)
        var esis: [UInt32] = []
        for index in 0..<500 { esis.append(assembly.takeRepairESI(for: UInt64(index % 3), using: &random)) }
        #expect(Set(esis).count == 500)
        #expect(esis.allSatisfy { $0 >= 16 && $0 < BFFountain.esiLimit })
        #expect(esis.max()! > 1 << 20, "spread over the whole ESI space, not K, K+1, …")
        #expect(assembly.repair.pending.count == 500)
        #expect(assembly.pendingRepair(at: 0) == 167)
    }
}
