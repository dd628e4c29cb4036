@testable import BitFountain
import Foundation
import Metainfo
import Testing
import TestSupport

/// Seed ratio limits: a seed stops at its own limit or the session's, and not before.
@Suite(.serialized) struct SessionSeedLimitTests {
    @Test func aSeedStopsAtItsRatioLimitAndOnlyThen() async throws {
        let work = try TemporaryDirectory("bf-seed-limit")
        let size = 1 << 20
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["a.bin": size, "b.bin": size],
                                                              state: work.file("seed-state"))
        let events = EventRecorder(seed)
        let (a, b) = (published["a.bin"]!.id, published["b.bin"]!.id)
        // a stops at ratio 1 (its own limit); b follows the session's, 5.
        try await seed.setSeedRatioLimit(a, .ratio(1))
        var settings = await seed.currentSettings()
        settings.seedRatioLimit = 5
        try await seed.updateSettings(settings)
        #expect(try await seed.snapshot(a).seedRatioLimit == .ratio(1))
        #expect(try await seed.snapshot(b).seedRatioLimit == .global)
        await #expect(throws: SessionError.self) { try await seed.setSeedRatioLimit(b, .ratio(-1)) }
        settings.seedRatioLimit = .nan
        await #expect(throws: SessionError.self) { try await seed.updateSettings(settings) }

        // Someone downloads a: the seed has uploaded its size, ratio 1, and stops.
        let getter = try await Session.start(SessionHarness.configuration(state: work.file("get-state")))
        let got = try await getter.add(.infoHash(published["a.bin"]!.infoHash),
                                       options: AddOptions(savePath: work.file("downloads"), peers: [SessionHarness.peer(seed)]))
        try await SessionHarness.wait(getter, got, until: .seeding, timeout: 120)
        #expect(SessionHarness.bytes(work.file("downloads/a.bin")) == SessionHarness.bytes(work.file("a.bin")))
        let stopped = try await SessionHarness.wait(seed, a, until: .paused, timeout: 60)
        #expect(stopped.ratio >= 1, "stopped at ratio \(stopped.ratio)")
        #expect(try await events.wait { if case .seedLimitReached(a, _) = $0 { true } else { false } })
        // b has uploaded nothing: below the session's 5, it seeds on.
        #expect(try await seed.snapshot(b).state == .seeding)
        // Resumed by hand after its limit, a seeds on with none (as Transmission does).
        try await seed.resume(a)
        try await SessionHarness.wait(seed, a, until: .seeding, timeout: 30)
        #expect(try await seed.snapshot(a).seedRatioLimit == .unlimited)

        // A limit of 0 is reached at once: b stops at the next check.
        try await seed.setSeedRatioLimit(b, .ratio(0))
        try await SessionHarness.wait(seed, b, until: .paused, timeout: 30)
        // Resumed with no limit, it seeds on.
        try await seed.setSeedRatioLimit(b, .unlimited)
        try await seed.resume(b)
        try await SessionHarness.wait(seed, b, until: .seeding, timeout: 30)
        try await Task.sleep(for: Session.seedLimitCheckInterval * 2)
        #expect(try await seed.snapshot(b).state == .seeding, "an unlimited seed was stopped")
        #expect(try await seed.snapshot(a).state == .seeding, "the seed resumed past its limit was stopped again")
        await getter.shutdown()
        await seed.shutdown()
    }
}
