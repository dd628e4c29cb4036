@testable import BitFountain
import Testing

@Suite struct LookupScheduleTests {
    @Test func withoutUsefulPeersADownloadLooksAgainSoonBackingOffGently() {
        var schedule = LookupSchedule(lookupInterval: 300, announceInterval: 900)
        let delays = (0..<10).map { _ in schedule.delay(after: .downloading(usefulPeers: 0)) }
        #expect(delays.first == 5)
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 }, "never shorter: \(delays)")
        #expect(delays.last == 60, "capped at a minute: \(delays)")
        #expect(delays.prefix(6).reduce(0, +) < 120, "six looks within two minutes, while stock seeds announce late")
    }

    @Test func enoughUsefulPeersMeanTheFullIntervalAndLosingThemStartsOver() {
        var schedule = LookupSchedule(lookupInterval: 300, announceInterval: 900)
        for _ in 0..<5 { _ = schedule.delay(after: .downloading(usefulPeers: 0)) }
        #expect(schedule.delay(after: .downloading(usefulPeers: 4)) == 300)
        #expect(schedule.delay(after: .downloading(usefulPeers: 0)) == 5, "everyone left: look soon again")
        #expect(schedule.delay(after: .downloading(usefulPeers: 1)) == 15, "one peer back: the few-peers pace from its start")
    }

    @Test func aFewUsefulPeersKeepTheDownloadLookingEveryFewTensOfSeconds() {
        // One seed found at once must not hide a second one that announces seconds later.
        var schedule = LookupSchedule(lookupInterval: 300, announceInterval: 900)
        let delays = (0..<7).map { _ in schedule.delay(after: .downloading(usefulPeers: 1)) }
        #expect(delays == [15, 30, 60, 120, 240, 300, 300])
        #expect(schedule.delay(after: .downloading(usefulPeers: 5)) == 300)
        #expect(schedule.delay(after: .downloading(usefulPeers: 2)) == 15, "back to few: the short pace again")
    }

    @Test func aSeedWithNobodyConnectedKeepsLookingEveryMinute() {
        var schedule = LookupSchedule(lookupInterval: 300, announceInterval: 900)
        let delays = (0..<8).map { _ in schedule.delay(after: .seeding(connectedPeers: 0)) }
        #expect(delays == [30, 60, 60, 60, 60, 60, 60, 60], "a late announce is found within a minute: \(delays)")
    }

    @Test func aSeedWithPeersBacksOffToTheAnnounceIntervalAndLosingThemBringsTheMinuteBack() {
        var schedule = LookupSchedule(lookupInterval: 300, announceInterval: 900)
        let busy = (0..<7).map { _ in schedule.delay(after: .seeding(connectedPeers: 3)) }
        #expect(busy == [30, 60, 120, 240, 480, 900, 900])
        #expect(schedule.delay(after: .seeding(connectedPeers: 0)) == 60, "everyone left: look every minute again")
        #expect(schedule.delay(after: .seeding(connectedPeers: 1)) == 900)
    }

    @Test func shortConfiguredIntervalsAreNeverExceeded() {
        var schedule = LookupSchedule(lookupInterval: 0.3, announceInterval: 0.3)
        #expect(schedule.delay(after: .downloading(usefulPeers: 0)) == 0.3)
        #expect(schedule.delay(after: .downloading(usefulPeers: 1)) == 0.3)
        #expect(schedule.delay(after: .seeding(connectedPeers: 0)) == 0.3)
        #expect(schedule.delay(after: .seeding(connectedPeers: 2)) == 0.3)
    }
}
