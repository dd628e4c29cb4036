import Metainfo
import NIOCore
import NIOPosix
import PeerWire
import RaptorQ
import Testing
@testable import BitFountain

/// The byte budget behind `--symbol-cache`.
@Suite struct FountainSymbolCacheTests {
    @Test func leastRecentlyUsedGoFirstAndTheBudgetHolds() {
        var cache = ByteBudgetCache<Int, String>(budgetBytes: 100)
        cache.insert("a", bytes: 40, for: 1)
        cache.insert("b", bytes: 40, for: 2)
        let touched = cache.value(for: 1)
        #expect(touched == "a", "1 is now the most recently used")
        let kept = cache.insert("c", bytes: 40, for: 3)
        #expect(kept)
        let (one, two, three) = (cache.value(for: 1), cache.value(for: 2), cache.value(for: 3))
        #expect(two == nil, "2 was the least recently used")
        #expect(one == "a" && three == "c")
        #expect(cache.usedBytes == 80)
        cache.insert("d", bytes: 100, for: 4)
        #expect(cache.count == 1 && cache.usedBytes == 100)
    }

    @Test func aValueLargerThanTheBudgetIsNotKeptAndDropsNothing() {
        var cache = ByteBudgetCache<Int, String>(budgetBytes: 100)
        cache.insert("a", bytes: 60, for: 1)
        let kept = cache.insert("huge", bytes: 101, for: 2)
        #expect(!kept)
        let (one, two) = (cache.value(for: 1), cache.value(for: 2))
        #expect(one == "a" && two == nil)
        var none = ByteBudgetCache<Int, String>(budgetBytes: 0)
        let keptNothing = none.insert("x", bytes: 1, for: 1)
        #expect(!keptNothing, "--symbol-cache 0 keeps nothing")
    }

    @Test func replacingAndRemovingKeepTheCountRight() {
        var cache = ByteBudgetCache<Int, String>(budgetBytes: 100)
        cache.insert("a", bytes: 30, for: 1)
        cache.insert("a2", bytes: 50, for: 1)
        #expect(cache.usedBytes == 50 && cache.count == 1)
        cache.remove(1) { $0 == "other" }
        let still = cache.value(for: 1)
        #expect(still == "a2", "only a matching value is removed")
        cache.remove(1) { $0 == "a2" }
        #expect(cache.count == 0 && cache.usedBytes == 0)
    }

    @Test func theDefaultBudgetIs256MiB() {
        #expect(SwarmNode.Options().symbolCacheBytes == 256 << 20)
    }

    /// Which pieces' encoders `SymbolEncoderCache` had to build, for a sequence of lookups.
    @Test func theEncoderCacheKeepsWhatItsBudgetHoldsLeastRecentlyUsedFirst() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let pieceLength = 64 << 10
        let encoder = try BlockEncoder(source: [UInt8](repeating: 1, count: pieceLength), symbolSize: BFFountain.symbolSize)
        let infoHash = try #require(InfoHash(bytes: [UInt8](repeating: 7, count: 20)))
        let built = try loop.submit { () -> [Int] in
            // Room for two encoders of this piece size.
            let cache = SymbolEncoderCache(budgetBytes: 2 * SymbolEncoderCache.footprint(ofPieceLength: pieceLength))
            var built: [Int] = []
            func lookUp(_ piece: Int, failing: Bool = false) {
                _ = cache.encoder(for: .init(infoHash: infoHash, piece: piece), pieceLength: pieceLength) {
                    built.append(piece)
                    return failing ? loop.makeFailedFuture(CancellationError()) : loop.makeSucceededFuture(encoder)
                }
            }
            lookUp(0); lookUp(1); lookUp(0)  // 0 is now the most recently used
            lookUp(2)                          // evicts 1
            lookUp(0); lookUp(2); lookUp(1)   // 1 is built again and evicts 0
            lookUp(3, failing: true); lookUp(3)  // a failed build is not kept
            return built
        }.wait()
        #expect(built == [0, 1, 2, 1, 3, 3])
    }

    @Test func encoderFootprintFollowsThePieceSize() {
        let small = SymbolEncoderCache.footprint(ofPieceLength: 256 << 10)
        let large = SymbolEncoderCache.footprint(ofPieceLength: 4 << 20)
        #expect(small > 256 << 10, "intermediate symbols outnumber the K source symbols")
        #expect(large > 4 << 20 && large < 5 << 20)
    }
}
