@testable import BitFountain
import Foundation
import Metainfo
import Testing
import TestSupport

/// A persistent session (`persistTorrents`) brings back every torrent after a
/// clean restart and after being dropped without a shutdown (what a `kill -9`
/// leaves behind: only what was on disk).
@Suite(.serialized) struct SessionPersistenceTests {
    @Test func aRestartedSessionRestoresEveryTorrentAndTheSettings() async throws {
        let work = try TemporaryDirectory("bf-session-restart")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["x.bin": 300_000, "y.bin": 100_000],
                                                               state: work.file("seed-state"))
        let configuration = SessionHarness.configuration(state: work.file("state"), persistent: true)
        let first = try await Session.start(configuration)
        let downloads = work.file("downloads")
        let peers = [SessionHarness.peer(seed)]
        let done = try await first.add(.infoHash(published["x.bin"]!.infoHash),
                                       options: AddOptions(savePath: downloads, category: "linux", tags: ["iso", "amd64"], peers: peers))
        let finished = try await SessionHarness.wait(first, done, until: .seeding)
        let paused = try await first.add(.infoHash(published["y.bin"]!.infoHash), options: AddOptions(savePath: downloads, paused: true, peers: peers))
        _ = try Swarm.writeRandomFile(work.file("mine.bin"), size: 50_000)
        let mine = try await first.add(.publish(path: work.file("mine.bin")))
        var settings = await first.currentSettings()
        settings.uploadLimit = 1_000_000
        (settings.altUploadLimit, settings.altDownloadLimit, settings.altSpeedEnabled) = (20_000, 0, true)
        settings.seedRatioLimit = 4
        try await first.updateSettings(settings)
        #expect(await first.currentSettings().effectiveUploadLimit == 20_000)
        #expect(await first.currentSettings().effectiveDownloadLimit == nil, "an alternative limit of 0 is none")
        await first.shutdown()

        let second = try await Session.start(configuration)
        let events = EventRecorder(second)
        #expect(await second.list().map(\.id) == [done, paused, mine])
        let restored = try await SessionHarness.wait(second, done, until: .seeding)
        #expect(restored.infoHash == finished.infoHash)
        #expect(restored.bytesHave == 300_000)
        #expect(restored.category == "linux" && restored.tags == ["iso", "amd64"])
        #expect(restored.downloadedEver >= 300_000)
        #expect(abs(restored.addedDate.timeIntervalSince(finished.addedDate)) < 1)
        #expect(restored.doneDate != nil)
        #expect(try await second.snapshot(paused).state == .paused)
        let mineAgain = try await SessionHarness.wait(second, mine, until: .seeding)
        #expect(mineAgain.isPublished && mineAgain.name == "mine.bin")
        #expect(await second.currentSettings().uploadLimit == 1_000_000)
        // The alternative limits come back in force, and the seed ratio limit with them.
        let again = await second.currentSettings()
        #expect((again.altUploadLimit, again.altDownloadLimit, again.altSpeedEnabled) == (20_000, 0, true))
        #expect(again.effectiveUploadLimit == 20_000 && again.seedRatioLimit == 4)
        // Ids are never reused.
        _ = try Swarm.writeRandomFile(work.file("more.bin"), size: 20_000)
        let more = try await second.add(.publish(path: work.file("more.bin")))
        #expect(more.rawValue == mine.rawValue + 1)
        // The restart told of its torrents in one event, and did not tell again that the
        // seeding ones are complete: the new torrent's completion, which comes the same
        // way after theirs would have, is the first.
        #expect(try await events.wait { if case .completed(more) = $0 { true } else { false } })
        let told = events.events
        let restoredEvents = told.compactMap { if case .restored(let torrents) = $0 { torrents } else { nil } }
        #expect(restoredEvents.map { $0.map(\.id) } == [[done, paused, mine]])
        #expect(restoredEvents.first?.first?.name == "x.bin")
        #expect(told.compactMap { if case .added(let id, _, _) = $0 { id } else { nil } } == [more])
        #expect(told.compactMap { if case .completed(let id) = $0 { id } else { nil } } == [more], "\(told)")
        // A removed torrent stays removed.
        try await second.remove(paused)
        await second.shutdown()
        let third = try await Session.start(configuration)
        #expect(await third.list().map(\.id) == [done, mine, TorrentID(mine.rawValue + 1)])
        await third.shutdown()
        await seed.shutdown()
    }

    @Test func aSessionDroppedWithoutShutdownLosesNoTorrentAndNoVerifiedPiece() async throws {
        let work = try TemporaryDirectory("bf-session-kill")
        let (seed, published) = try await SessionHarness.seed(work.path, files: ["k.bin": 400_000, "l.bin": 100_000],
                                                               state: work.file("seed-state"))
        let configuration = SessionHarness.configuration(state: work.file("state"), persistent: true)
        let downloads = work.file("downloads")
        let peers = [SessionHarness.peer(seed)]
        var first: Session? = try await Session.start(configuration)
        let done = try await first!.add(.infoHash(published["k.bin"]!.infoHash), options: AddOptions(savePath: downloads, peers: peers))
        try await SessionHarness.wait(first!, done, until: .seeding)
        let paused = try await first!.add(.infoHash(published["l.bin"]!.infoHash),
                                          options: AddOptions(savePath: downloads, paused: true, tags: ["later"], peers: peers))
        // No shutdown: the new session sees only what the first one wrote as it went.
        // The seed goes away too, so nothing can be downloaded again.
        let abandoned = first!
        first = nil
        await seed.shutdown()

        let second = try await Session.start(configuration)
        #expect(await second.list().map(\.id) == [done, paused])
        let restored = try await SessionHarness.wait(second, done, until: .seeding)
        #expect(restored.bytesHave == 400_000)
        let stillPaused = try await second.snapshot(paused)
        #expect(stillPaused.state == .paused && stillPaused.tags == ["later"])
        await second.shutdown()
        await abandoned.shutdown()
    }
}
