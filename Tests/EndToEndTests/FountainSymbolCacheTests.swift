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

    @Test func encoderFootprintFollowsThePieceSize() {
        let small = SymbolEncoderCache.footprint(ofPieceLength: 256 << 10)
        let large = SymbolEncoderCache.footprint(ofPieceLength: 4 << 20)
        #expect(small > 256 << 10, "intermediate symbols outnumber the K source symbols")
        #expect(large > 4 << 20 && large < 5 << 20)
    }
}
